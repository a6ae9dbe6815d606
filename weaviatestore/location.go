package weaviatestore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// EnvAPIKey names the environment variable that holds the API key.
const EnvAPIKey = "EMBEDSEARCH_WEAVIATE_API_KEY"

// DefaultGRPCPort is Weaviate's gRPC port unless ?grpc= says otherwise.
const DefaultGRPCPort = "50051"

// ErrLocation: a --store URL that does not name a Weaviate collection.
var ErrLocation = errors.New("bad weaviate store URL")

// Consistency levels (Weaviate's names).
const (
	One    = "ONE"
	Quorum = "QUORUM"
	All    = "ALL"
)

// Location is a Weaviate collection (and tenant) to keep a store in.
type Location struct {
	Scheme      string // http or https
	Host        string // REST host:port
	GRPC        string // gRPC host:port
	Class       string // the Weaviate collection
	Tenant      string // "" without multi-tenancy
	Consistency string // One, Quorum (default) or All
	// Replication is the replication factor a new collection is created
	// with (0: the server's default, 1 unless configured).
	Replication int
	APIKey      string
}

// IsURL reports whether spec names a Weaviate store rather than a folder.
func IsURL(spec string) bool {
	return strings.HasPrefix(spec, "weaviate://") || strings.HasPrefix(spec, "weaviates://")
}

// ParseLocation reads weaviate[s]://HOST:PORT/Collection[?tenant=NAME]
// [&consistency=ONE|QUORUM|ALL][&replication=N][&grpc=HOST:PORT]; the API
// key comes from EnvAPIKey.
func ParseLocation(spec string) (Location, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return Location{}, fmt.Errorf("%w %q: %v", ErrLocation, spec, err)
	}
	l := Location{Scheme: "http", Host: u.Host, Consistency: Quorum, APIKey: os.Getenv(EnvAPIKey)}
	switch u.Scheme {
	case "weaviate":
	case "weaviates":
		l.Scheme = "https"
	default:
		return l, fmt.Errorf("%w %q: the scheme must be weaviate:// or weaviates://", ErrLocation, spec)
	}
	host, _, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return l, fmt.Errorf("%w %q: give HOST:PORT, e.g. weaviate://localhost:8080/Images", ErrLocation, spec)
	}
	l.GRPC = net.JoinHostPort(host, DefaultGRPCPort)
	l.Class = strings.Trim(u.Path, "/")
	if !validClass(l.Class) {
		return l, fmt.Errorf("%w %q: name the collection after the host, a letter then letters, digits or _, e.g. /Images", ErrLocation, spec)
	}
	// Weaviate capitalises class names; say the name it will have.
	l.Class = strings.ToUpper(l.Class[:1]) + l.Class[1:]
	q := u.Query()
	for k := range q {
		switch k {
		case "tenant", "consistency", "replication", "grpc":
		default:
			return l, fmt.Errorf("%w %q: unknown parameter %q (tenant, consistency, replication, grpc)", ErrLocation, spec, k)
		}
	}
	l.Tenant = q.Get("tenant")
	if c := strings.ToUpper(q.Get("consistency")); c != "" {
		if c != One && c != Quorum && c != All {
			return l, fmt.Errorf("%w %q: consistency is ONE, QUORUM or ALL", ErrLocation, spec)
		}
		l.Consistency = c
	}
	if r := q.Get("replication"); r != "" {
		if l.Replication, err = strconv.Atoi(r); err != nil || l.Replication < 1 {
			return l, fmt.Errorf("%w %q: replication is a whole number ≥ 1", ErrLocation, spec)
		}
	}
	if g := q.Get("grpc"); g != "" {
		if _, _, err := net.SplitHostPort(g); err != nil {
			return l, fmt.Errorf("%w %q: grpc is HOST:PORT", ErrLocation, spec)
		}
		l.GRPC = g
	}
	return l, nil
}

// String is the location as a user wrote it, without the API key.
func (l Location) String() string {
	s := "weaviate"
	if l.Scheme == "https" {
		s = "weaviates"
	}
	s += "://" + l.Host + "/" + l.Class
	if l.Tenant != "" {
		s += "?tenant=" + url.QueryEscape(l.Tenant)
	}
	return s
}

func validClass(s string) bool {
	if s == "" || !unicode.IsLetter(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
			return false
		}
	}
	return true
}
