package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestOperationsFlags(t *testing.T) {
	env := map[string]string{"APP_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1", "APP_CORS_ORIGINS": "https://a.example.org, http://localhost:5173", "APP_METRICS_ADDR": "127.0.0.1:9100"}
	c, _, err := parseFlags("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.proxies); got != "[10.0.0.0/8 192.168.1.1/32]" {
		t.Errorf("trusted proxies from the environment: %s", got)
	}
	if got := fmt.Sprint(c.corsOrigins); got != "[https://a.example.org http://localhost:5173]" {
		t.Errorf("CORS origins from the environment: %s", got)
	}
	if c.metricsAddr != "127.0.0.1:9100" {
		t.Errorf("metrics address from the environment: %q", c.metricsAddr)
	}
	c, _, err = parseFlags("serve", []string{"-trusted-proxies", "fd00::/8"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || fmt.Sprint(c.proxies) != "[fd00::/8]" {
		t.Errorf("the flag does not override the environment: %v %v", c, err)
	}
	for _, args := range [][]string{{"-trusted-proxies", "10.0.0.0/40"}, {"-trusted-proxies", "proxy.lan"}} {
		if _, _, err := parseFlags("serve", args, noEnv, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestMetricsOnTheirOwnListenerOnly(t *testing.T) {
	base, _, _, logs := startApp(t, t.TempDir(), "-metrics-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`msg="serving metrics" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no metrics listener in the log:\n%s", logs)
	}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(base + "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	code, body := get("http://" + m[1] + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `maru_http_requests_total{route="GET /healthz",status="200"} 1`) {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
	if code, _ := get(base + "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %d, want 404", code)
	}
	if code, _ := get("http://" + m[1] + "/healthz"); code != http.StatusNotFound {
		t.Errorf("the metrics listener serves more than /metrics: %d", code)
	}
}

func TestNoMetricsListenerByDefault(t *testing.T) {
	_, _, _, logs := startApp(t, t.TempDir())
	if strings.Contains(logs.String(), "serving metrics") {
		t.Errorf("a metrics listener without -metrics-addr:\n%s", logs)
	}
}
