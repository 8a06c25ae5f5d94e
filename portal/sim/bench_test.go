package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// BenchmarkListColleagues measures full pages of 25 colleagues over HTTP with
// keep-alive, from parallel clients in the same process (so client and server
// share the CPUs). It reports requests per second.
func BenchmarkListColleagues(b *testing.B) {
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	st := s.State()
	for i := range 200 {
		st.Colleagues = append(st.Colleagues, Colleague{ColleaguesID: 20000 + int64(i),
			YeastarID: fmt.Sprintf("bench%d@x.example", i), FirstName: "Bench", LastName: fmt.Sprint(i),
			UserStatus: StatusActive, ResourceIDs: []int64{101, 102, 103}, CreateTime: 1764100000})
	}
	if err := s.LoadState(st); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer hc.CloseIdleConnections()

	form := url.Values{"client_id": {DemoPartnerID}, "client_secret": {DemoPartnerSecret}, "grant_type": {"pp_credentials"}}
	req, _ := http.NewRequest("POST", ts.URL+pathPPToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "bench")
	res, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var env struct{ Result tokPP }
	err = json.NewDecoder(res.Body).Decode(&env)
	res.Body.Close()
	if err != nil || env.Result.Token == "" {
		b.Fatalf("login: %v", err)
	}
	auth := []string{"Bearer " + env.Result.Token}
	u := ts.URL + pathColleagues + "?pageNo=2&pageSize=25"

	b.Run("net-http", func(b *testing.B) {
		b.SetParallelism(8)
		b.ReportAllocs()
		t0, c0 := time.Now(), cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", u, nil)
				req.Header["Authorization"] = auth
				req.Header["User-Agent"] = []string{"bench"}
				res, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || n < 5000 {
					b.Errorf("HTTP %d, %d bytes", res.StatusCode, n)
					return
				}
			}
		})
		reportRate(b, t0, c0)
	})

	// The same calls from a lighter client (one connection per goroutine, no
	// Transport), so that more of the CPU goes to the simulator.
	raw := []byte("GET " + pathColleagues + "?pageNo=2&pageSize=25 HTTP/1.1\r\nHost: sim\r\nUser-Agent: bench\r\n" +
		"Authorization: " + auth[0] + "\r\n\r\n")
	b.Run("raw-conn", func(b *testing.B) {
		b.SetParallelism(8)
		b.ReportAllocs()
		t0, c0 := time.Now(), cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			br := bufio.NewReaderSize(conn, 16<<10)
			for pb.Next() {
				if _, err := conn.Write(raw); err != nil {
					b.Error(err)
					return
				}
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || n < 5000 {
					b.Errorf("HTTP %d, %d bytes", res.StatusCode, n)
					return
				}
			}
		})
		reportRate(b, t0, c0)
	})
}

// reportRate reports requests per second of wall time and the CPU time (client
// and server together) each request took; the second is steadier on a busy machine.
func reportRate(b *testing.B, t0 time.Time, c0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "req/s")
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(c.Microseconds())/float64(b.N), "cpu-µs/op")
	}
}
