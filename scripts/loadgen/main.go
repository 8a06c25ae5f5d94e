// Command loadgen signs in N users of ycm-onboard's page and has each load a page in a
// loop for a while, then prints the latency percentiles. For BENCHMARKS.md (make bench).
//
//	go run ./scripts/loadgen -url http://127.0.0.1:18091 -path /uploads/ID -users 50 -for 10s \
//	    -name bench -password 'the password'
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the page's address")
	path := flag.String("path", "/", "the page each user loads")
	users := flag.Int("users", 50, "users signed in at once")
	dur := flag.Duration("for", 10*time.Second, "how long they load it")
	name := flag.String("name", "", "the account they sign in with")
	pw := flag.String("password", "", "its password")
	flag.Parse()

	tr := &http.Transport{MaxIdleConnsPerHost: *users}
	var (
		mu   sync.Mutex
		lats []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	start := make(chan struct{})
	for range *users {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: tr}
		resp, err := c.PostForm(*base+"/signin", url.Values{"name": {*name}, "password": {*pw}})
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintf(os.Stderr, "loadgen: sign in: %v %v\n", err, resp)
			os.Exit(1)
		}
		resp.Body.Close()
		wg.Go(func() {
			<-start
			for end := time.Now().Add(*dur); time.Now().Before(end); {
				t0 := time.Now()
				resp, err := c.Get(*base + *path)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				mu.Lock()
				if err != nil || resp.StatusCode != http.StatusOK {
					errs++
				} else {
					lats = append(lats, d)
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(lats)
	if len(lats) == 0 {
		fmt.Fprintln(os.Stderr, "loadgen: no request succeeded")
		os.Exit(1)
	}
	p := func(q float64) time.Duration { return lats[int(q*float64(len(lats)-1))] }
	fmt.Printf("%d users, %s: %d requests (%.0f/s), %d errors; p50 %s, p95 %s, p99 %s, max %s\n",
		*users, *dur, len(lats), float64(len(lats))/dur.Seconds(), errs,
		p(0.50).Round(time.Microsecond), p(0.95).Round(time.Microsecond), p(0.99).Round(time.Microsecond), lats[len(lats)-1].Round(time.Microsecond))
}
