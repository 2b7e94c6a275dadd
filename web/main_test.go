package web

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"maru/store/storetest"
)

// TestMain removes the benchmark database after the run, and fails the run
// when any page came out otherwise than html/template makes it (benchmarks
// run without that check, which would double what they measure).
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		renderCheck = checkRender
		fragmentCheck = checkFragment
	}
	code := storetest.Main(m)
	if diffs := renderMismatches(); len(diffs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d pages rendered otherwise than by html/template:\n%s\n", len(diffs), strings.Join(diffs, "\n"))
		code = 1
	}
	os.Exit(code)
}
