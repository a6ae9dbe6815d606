// Package weaviatetest starts Weaviate nodes for tests: the pinned
// weaviate-server binary on loopback, free ports, data in the test's
// temporary folder, stopped when the test ends.
//
// The binary is $EMBEDSEARCH_WEAVIATE_SERVER, else weaviate-server in
// $HOME/go/bin, $GOBIN, $GOPATH/bin or $PATH (scripts/test.sh installs the pinned
// version). Without it a test is skipped with a message saying how to
// install it, and fails when CI=true: CI must run these tests.
package weaviatetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the server version scripts/test.sh installs.
const Version = "v1.35.2"

// Install is how to get the server.
const Install = "go install github.com/weaviate/weaviate/cmd/weaviate-server@" + Version

// Node is one running weaviate-server.
type Node struct {
	Name       string
	HTTP, GRPC int // ports on 127.0.0.1
	gossip     int
	data, raft int
	prof       int
	dir        string
	log        *os.File

	mu  sync.Mutex
	cmd *exec.Cmd
	c   *Cluster
}

// Cluster is one or more nodes that form one Weaviate cluster.
type Cluster struct {
	Nodes []*Node
	bin   string
	t     testing.TB
}

// Binary finds weaviate-server ("" when absent).
func Binary() string {
	if b := os.Getenv("EMBEDSEARCH_WEAVIATE_SERVER"); b != "" {
		return b
	}
	var dirs []string
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, d := range filepath.SplitList(gp) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(string(out), "\n")
		if len(lines) > 1 {
			if gobin := strings.TrimSpace(lines[0]); gobin != "" {
				dirs = append(dirs, gobin)
			}
			for _, d := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(d, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "weaviate-server")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if p, err := exec.LookPath("weaviate-server"); err == nil {
		return p
	}
	return ""
}

// Start starts a cluster of n nodes (replication needs n ≥ the factor)
// and waits until every node is ready; they are stopped at the end of t.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "weaviate-server not found (set EMBEDSEARCH_WEAVIATE_SERVER or run: " + Install + "; scripts/test.sh does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &Cluster{bin: bin, t: t}
	for i := range n {
		nd := &Node{Name: fmt.Sprintf("node%d", i), dir: filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i)), c: c}
		nd.HTTP, nd.GRPC, nd.gossip, nd.data, nd.prof = freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
		nd.raft = freePair(t)
		c.Nodes = append(c.Nodes, nd)
	}
	t.Cleanup(c.Stop)
	for i, nd := range c.Nodes {
		nd.Start()
		if i == 0 && n > 1 {
			// The others join through node0's gossip port and give up
			// at once when it is not listening yet.
			if err := listening(nd.gossip, time.Minute); err != nil {
				t.Fatalf("%s: gossip port: %v\n%s", nd.Name, err, nd.Log())
			}
		}
	}
	for _, nd := range c.Nodes {
		if err := nd.WaitReady(3 * time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", nd.Name, err, nd.Log())
		}
	}
	return c
}

// URL is the embedsearch --store URL of class on the cluster's first node.
func (c *Cluster) URL(class string) string { return c.Nodes[0].URL(class) }

// URL is the embedsearch --store URL of class on this node.
func (n *Node) URL(class string) string {
	return fmt.Sprintf("weaviate://127.0.0.1:%d/%s?grpc=127.0.0.1:%d", n.HTTP, class, n.GRPC)
}

func (c *Cluster) env(n *Node) []string {
	var join []string
	for _, o := range c.Nodes {
		join = append(join, fmt.Sprintf("%s:%d", o.Name, o.raft))
	}
	env := append(os.Environ(),
		"PERSISTENCE_DATA_PATH="+n.dir,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"DISABLE_TELEMETRY=true",
		"LOG_LEVEL=warning",
		"QUERY_DEFAULTS_LIMIT=25",
		"CLUSTER_IN_LOCALHOST=true",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_HOSTNAME="+n.Name,
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(n.gossip),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(n.data),
		"RAFT_PORT="+strconv.Itoa(n.raft),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(n.raft+1),
		"RAFT_JOIN="+strings.Join(join, ","),
		"RAFT_BOOTSTRAP_EXPECT="+strconv.Itoa(len(c.Nodes)),
		"GRPC_PORT="+strconv.Itoa(n.GRPC),
		"GO_PROFILING_PORT="+strconv.Itoa(n.prof),
		"PROMETHEUS_MONITORING_ENABLED=false",
		"GOMAXPROCS=2",
	)
	if n != c.Nodes[0] {
		env = append(env, fmt.Sprintf("CLUSTER_JOIN=127.0.0.1:%d", c.Nodes[0].gossip))
	}
	return env
}

// Start starts the node (again, after Kill or Stop, on its data).
func (n *Node) Start() {
	n.c.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		n.c.t.Fatal(err)
	}
	log, err := os.OpenFile(n.dir+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.c.t.Fatal(err)
	}
	cmd := exec.Command(n.c.bin, "--scheme", "http", "--host", "127.0.0.1", "--port", strconv.Itoa(n.HTTP))
	cmd.Env = n.c.env(n)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		n.c.t.Fatal(err)
	}
	n.cmd, n.log = cmd, log
}

// WaitReady waits until the node answers ready.
func (n *Node) WaitReady(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", n.HTTP)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		n.mu.Lock()
		exited := n.cmd != nil && n.cmd.ProcessState != nil
		n.mu.Unlock()
		if exited {
			return fmt.Errorf("weaviate-server exited")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v", d)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Kill ends the node with SIGKILL (a crash).
func (n *Node) Kill() { n.signal(syscall.SIGKILL) }

// Stop ends the node with SIGTERM (a clean shutdown), waiting for it.
func (n *Node) Stop() { n.signal(syscall.SIGTERM) }

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
	n.cmd = nil
	n.log.Close()
}

// Log is the node's output so far (for a failing test's message).
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.dir + ".log")
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
	}
}

var (
	portMu sync.Mutex
	given  = map[int]bool{} // ports handed out in this process
)

// freePort is a port free now and not handed out before.
// listening waits until something accepts connections on port.
func listening(port int, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(end) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !given[p] && !given[p+1] && !given[p-1] {
			given[p] = true
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// freePair is a free port p with p+1 free too (Raft uses both).
func freePair(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := freePort(t)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			l.Close()
			portMu.Lock()
			given[p+1] = true
			portMu.Unlock()
			return p
		}
	}
	t.Fatal("no two consecutive free ports")
	return 0
}
