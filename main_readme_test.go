package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"maru/store"
)

// The operator's files (systemd units, proxy configurations) live in
// README.md, where people read them; these tests read them out of it, so
// that what people copy is what was checked.

// TestMain lets the test binary stand in for maru itself, so that the
// README's commands run the code under test: with MARU_TEST_AS_APP=1 it
// is the app.
func TestMain(m *testing.M) {
	if os.Getenv("MARU_TEST_AS_APP") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// readmeFiles returns the fenced blocks of README.md that follow a
// "<!-- file: NAME -->" marker, by NAME.
func readmeFiles(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- file: (\\S+) -->\\s*```[a-z]*\\n(.*?)```")
	files := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		files[m[1]] = m[2]
	}
	for _, name := range []string{"maru.service", "maru-backup.service", "maru-backup.timer", "maru.nginx.conf", "Caddyfile"} {
		if files[name] == "" {
			t.Fatalf("README.md has no %s block", name)
		}
	}
	return files
}

// unit is a parsed systemd unit: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, text string) unit {
	t.Helper()
	u := unit{}
	var section string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("line %d: %q is not key=value in a section", i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func TestReadmeServiceUnit(t *testing.T) {
	files := readmeFiles(t)
	u := parseUnit(t, files["maru.service"])
	for _, kv := range [][2]string{
		{"User", "maru"}, {"StateDirectory", "maru"}, {"ProtectSystem", "strict"},
		{"NoNewPrivileges", "yes"}, {"Restart", "on-failure"}, {"ExecStart", "/usr/local/bin/maru"},
	} {
		if got := u.get("Service", kv[0]); got != kv[1] {
			t.Errorf("[Service] %s=%q, want %q", kv[0], got, kv[1])
		}
	}
	// Its environment must be what maru understands, with the data in the
	// state directory and maru behind the proxy on loopback.
	env := map[string]string{}
	for _, e := range u["Service"]["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	c, _, err := parseFlags("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("the unit's environment: %v", err)
	}
	if c.data != "/var/lib/"+u.get("Service", "StateDirectory") || !strings.HasPrefix(c.addr, "127.0.0.1:") || len(c.proxies) == 0 {
		t.Errorf("config %+v: want data in the state directory, loopback, trusted proxies", c)
	}
	// systemd must wait out a whole clean shutdown before it kills: the
	// requests in flight, the chat sockets (write timeout + 5 s), the rest.
	stop, err := time.ParseDuration(u.get("Service", "TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	if need := c.shutdownWait + 15*time.Second; stop <= need {
		t.Errorf("TimeoutStopSec=%v, want more than %v", stop, need)
	}

	b := parseUnit(t, files["maru-backup.service"])
	if b.get("Service", "User") != "maru" || !strings.Contains(b.get("Service", "ExecStart"), "maru backup -data "+c.data+" ") {
		t.Errorf("the backup unit must run maru backup as maru on %s", c.data)
	}
	tm := parseUnit(t, files["maru-backup.timer"])
	if tm.get("Timer", "OnCalendar") == "" || tm.get("Timer", "Persistent") != "true" {
		t.Errorf("the timer needs OnCalendar and Persistent=true")
	}
}

// TestReadmeUnitsVerify runs systemd-analyze verify on the units, with the
// binary path pointing at an executable that exists here.
func TestReadmeUnitsVerify(t *testing.T) {
	files := readmeFiles(t)
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, name := range []string{"maru.service", "maru-backup.service", "maru-backup.timer"} {
		p := filepath.Join(dir, name)
		text := strings.ReplaceAll(files[name], "/usr/local/bin/maru", self)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil || strings.Contains(string(out), dir) {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestReadmeBackupCommands runs the backup unit's commands, as systemd
// would, against a real database: a copy appears, old copies go.
func TestReadmeBackupCommands(t *testing.T) {
	files := readmeFiles(t)
	b := parseUnit(t, files["maru-backup.service"])
	dir := t.TempDir()
	data, backups := filepath.Join(dir, "maru"), filepath.Join(dir, "maru-backups")
	st, err := store.Open(context.Background(), filepath.Join(data, "app.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(backups, "maru-2000-01-01-033000.db")
	if err := os.WriteFile(old, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-20 * 24 * time.Hour)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// systemd's escapes, then this machine's paths.
	r := strings.NewReplacer("%%", "%", "$$", "$", "/usr/local/bin/maru", self,
		"/var/lib/maru-backups", backups, "/var/lib/maru", data)
	for _, key := range []string{"ExecStart", "ExecStartPost"} {
		line := r.Replace(b.get("Service", key))
		var cmd *exec.Cmd
		if rest, ok := strings.CutPrefix(line, "/bin/sh -c '"); ok {
			cmd = exec.Command("/bin/sh", "-c", strings.TrimSuffix(rest, "'"))
		} else {
			f := strings.Fields(line)
			cmd = exec.Command(f[0], f[1:]...)
		}
		cmd.Env = append(os.Environ(), "MARU_TEST_AS_APP=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", key, err, out)
		}
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the 20-day-old copy is still there: %v", err)
	}
	copies, _ := filepath.Glob(filepath.Join(backups, "maru-*.db"))
	if len(copies) != 1 {
		t.Fatalf("backups %v, want one new copy", copies)
	}
	cp, err := store.Open(context.Background(), copies[0], store.Options{})
	if err != nil {
		t.Fatalf("the copy does not open: %v", err)
	}
	cp.Close()
}

// selfSigned writes a certificate and key for club.example.org into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "club.example.org"},
		DNSNames:     []string{"club.example.org"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

func TestReadmeNginx(t *testing.T) {
	conf := readmeFiles(t)["maru.nginx.conf"]
	for _, want := range []string{
		"proxy_pass http://127.0.0.1:8080;", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
		"Upgrade $http_upgrade", "Connection $connection_upgrade", "proxy_http_version 1.1", "ssl_certificate ",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("the nginx configuration lacks %q", want)
		}
	}
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
		if _, err := os.Stat(nginx); err != nil {
			t.Skip("nginx not installed")
		}
	}
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	conf = strings.NewReplacer(
		"/etc/letsencrypt/live/club.example.org/fullchain.pem", cert,
		"/etc/letsencrypt/live/club.example.org/privkey.pem", key).Replace(conf)
	os.WriteFile(filepath.Join(dir, "maru.conf"), []byte(conf), 0o644)
	top := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n    access_log off;\n    include " + dir + "/maru.conf;\n}\n"
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(top), 0o644)
	// -t reads and checks everything, certificates included, and binds nothing.
	out, err := exec.Command(nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

func TestReadmeCaddy(t *testing.T) {
	conf := readmeFiles(t)["Caddyfile"]
	if !strings.Contains(conf, "reverse_proxy 127.0.0.1:8080") {
		t.Errorf("the Caddyfile does not proxy to maru")
	}
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		t.Skip("caddy not installed")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "Caddyfile")
	os.WriteFile(p, []byte(conf), 0o644)
	cmd := exec.Command(caddy, "validate", "--config", p, "--adapter", "caddyfile")
	// Caddy keeps its state under HOME; give it a scratch one.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
}
