// Command load is the load test of 'embedsearch serve': C concurrent
// clients, each asking /api/query for "more like" a random indexed image
// and fetching the thumbnails of its first results, for D seconds, on a
// running server. It prints requests, errors and the latency percentiles.
//
//	go run ./bench/serve/load -url http://127.0.0.1:7878/ -c 50 -d 30s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:7878/", "the server")
	clients := flag.Int("c", 50, "concurrent clients")
	dur := flag.Duration("d", 30*time.Second, "how long")
	thumbs := flag.Int("thumbs", 6, "thumbnails fetched after each query")
	flag.Parse()
	u := func(p string, q url.Values) string {
		s := *base + p
		if q != nil {
			s += "?" + q.Encode()
		}
		return s
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	// The paths to ask about: one query gives all of a small store's.
	paths, err := seedPaths(hc, u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var qlat, tlat []time.Duration
	errs := map[string]int{}
	end := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for c := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			for time.Now().Before(end) {
				p := paths[rng.IntN(len(paths))]
				t0 := time.Now()
				var ans struct{ Results []struct{ Path string } }
				err := get(hc, u("api/query", url.Values{"path": {p}, "k": {"60"}}), &ans)
				d := time.Since(t0)
				mu.Lock()
				qlat = append(qlat, d)
				if err != nil {
					errs[err.Error()]++
				}
				mu.Unlock()
				for i := 0; i < *thumbs && i < len(ans.Results); i++ {
					t0 := time.Now()
					err := get(hc, u("api/thumb", url.Values{"path": {ans.Results[i].Path}}), nil)
					d := time.Since(t0)
					mu.Lock()
					tlat = append(tlat, d)
					if err != nil {
						errs[err.Error()]++
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range errs {
		n += c
	}
	fmt.Printf("clients %d, %s: %d queries (%.0f/s), %d thumbnails, %d errors\n", *clients, *dur, len(qlat),
		float64(len(qlat))/dur.Seconds(), len(tlat), n)
	for e, c := range errs {
		fmt.Printf("  error x%d: %s\n", c, e)
	}
	report("query", qlat)
	report("thumb", tlat)
	if n > 0 {
		os.Exit(1)
	}
}

// seedPaths lists the store's images: the keeper of the first group at
// the similar preset, and the images nearest to it (a small store: all).
func seedPaths(hc *http.Client, u func(string, url.Values) string) ([]string, error) {
	var d struct{ Groups []struct{ Keeper string } }
	if err := get(hc, u("api/dedup", url.Values{"preset": {"similar"}}), &d); err != nil {
		return nil, err
	}
	if len(d.Groups) == 0 {
		return nil, fmt.Errorf("no image to start from (the store needs two similar images)")
	}
	var ans struct{ Results []struct{ Path string } }
	if err := get(hc, u("api/query", url.Values{"path": {d.Groups[0].Keeper}, "k": {"500"}}), &ans); err != nil {
		return nil, err
	}
	var paths []string
	for _, r := range ans.Results {
		paths = append(paths, r.Path)
	}
	return paths, nil
}

func get(hc *http.Client, u string, v any) error {
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func report(what string, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("%s latency: p50 %v, p90 %v, p99 %v, max %v\n", what, q(0.5).Round(10*time.Microsecond),
		q(0.9).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
}
