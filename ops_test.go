package main

import (
	"fmt"
	"io"
	"testing"
)

func TestOperationsFlags(t *testing.T) {
	env := map[string]string{"APP_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1"}
	c, _, err := parseFlags("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.proxies); got != "[10.0.0.0/8 192.168.1.1/32]" {
		t.Errorf("trusted proxies from the environment: %s", got)
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
