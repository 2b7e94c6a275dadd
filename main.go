// Command app is maru, a self-hosted community server in one binary.
//
// Usage:
//
//	app [flags]                 serve (the default)
//	app backup [flags] FILE     write a consistent copy of the database to FILE
//	app make-admin [flags] EMAIL
//	app set-password [flags] [-generate] EMAIL   new password on standard input
//	app version
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"maru/store"
	"maru/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "app:", err)
		}
		os.Exit(1)
	}
}

// config is everything the command line and environment can set.
type config struct {
	addr         string
	data         string
	baseURL      string
	logFormat    string
	logLevel     string
	chatMaxLen   int
	chatRate     float64
	maxUpload    int64
	accessTTL    time.Duration
	refreshTTL   time.Duration
	refreshAge   time.Duration
	postRate     int
	chatSockets  int
	roomRate     int
	shutdownWait time.Duration
	bcryptCost   int
	generate     bool // set-password: make one up
	signup       string
	proxies      []netip.Prefix
	metricsAddr  string
	corsOrigins  []string

	// Deadlines of a connection, and the memory answers may hold.
	readHeaderTimeout, idleTimeout, writeTimeout time.Duration
	responseMemory                               int64
	registerRate                                 float64
}

// parseFlags reads flags for the subcommand name. Each flag's default comes
// from its environment variable when that is set, so a flag overrides the
// environment, which overrides the built-in default.
func parseFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var errs []error
	str := func(p *string, flagName, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, flagName, def, usage+" ($"+env+")")
	}
	num := func(p *int, flagName, env string, def int, usage string) {
		if v := getenv(env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("$%s: %q is not a whole number", env, v))
			}
			def = n
		}
		fs.IntVar(p, flagName, def, usage+" ($"+env+")")
	}
	dur := func(p *time.Duration, flagName, env string, def time.Duration, usage string) {
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("$%s: %q is not a duration such as 15m", env, v))
			}
			def = d
		}
		fs.DurationVar(p, flagName, def, usage+" ($"+env+")")
	}
	str(&c.addr, "addr", "APP_ADDR", ":8080", "address to listen on")
	str(&c.data, "data", "APP_DATA", "./data", "directory of the database file")
	str(&c.baseURL, "base-url", "APP_BASE_URL", "", "public URL, e.g. https://club.example.org (links, secure cookies)")
	str(&c.logFormat, "log-format", "APP_LOG_FORMAT", "text", "log format: text or json")
	str(&c.logLevel, "log-level", "APP_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	num(&c.chatMaxLen, "chat-max-len", "APP_CHAT_MAX_LEN", 2000, "longest chat message, in characters")
	var rate string
	str(&rate, "chat-rate", "APP_CHAT_RATE", "5", "chat messages per second per socket; 0 turns the limit off")
	num(&c.chatSockets, "chat-sockets", "APP_CHAT_SOCKETS", 20, "chat sockets one user may have open at once; 0 turns the limit off")
	num(&c.postRate, "post-rate", "APP_POST_RATE", 30, "posts one user may write an hour, in bursts of a third of that; 0 turns the limit off")
	num(&c.roomRate, "room-rate", "APP_ROOM_RATE", 20, "chat rooms one user may create an hour, in bursts of a third of that; 0 turns the limit off")
	var upload int
	num(&upload, "max-upload", "APP_MAX_UPLOAD", 5<<20, "largest upload (profile picture) in bytes")
	dur(&c.accessTTL, "access-ttl", "APP_ACCESS_TTL", 15*time.Minute, "lifetime of access tokens")
	dur(&c.refreshTTL, "refresh-ttl", "APP_REFRESH_TTL", 14*24*time.Hour, "lifetime of refresh tokens")
	dur(&c.refreshAge, "refresh-max-age", "APP_REFRESH_MAX_AGE", 90*24*time.Hour, "absolute lifetime of a login's refresh tokens, however often rotated; 0 = no bound")
	dur(&c.shutdownWait, "shutdown-timeout", "APP_SHUTDOWN_TIMEOUT", 10*time.Second, "how long in-flight requests may run on at shutdown")
	num(&c.bcryptCost, "bcrypt-cost", "APP_BCRYPT_COST", 0, "password hashing cost; 0 means bcrypt's default (10)")
	fs.BoolVar(&c.generate, "generate", false, "set-password: make up a password and print it, instead of reading one")
	str(&c.signup, "signup", "APP_SIGNUP", "open", "who may register: open, invite (with a code from an admin) or closed")
	str(&c.metricsAddr, "metrics-addr", "APP_METRICS_ADDR", "", "address of a separate listener for /metrics (Prometheus); empty: no metrics")
	var proxies, origins string
	str(&origins, "cors-origins", "APP_CORS_ORIGINS", "", "origins of web front ends that may use the API with tokens (https://app.example.org), comma-separated")
	str(&proxies, "trusted-proxies", "APP_TRUSTED_PROXIES", "", "reverse proxies whose X-Forwarded-For/-Proto are believed: CIDRs, comma-separated")
	dur(&c.readHeaderTimeout, "read-header-timeout", "APP_READ_HEADER_TIMEOUT", 10*time.Second, "how long a client may take to send a request's headers; 0 = no bound")
	dur(&c.idleTimeout, "idle-timeout", "APP_IDLE_TIMEOUT", 2*time.Minute, "how long an idle keep-alive connection stays open; 0 = no bound")
	dur(&c.writeTimeout, "write-timeout", "APP_WRITE_TIMEOUT", time.Minute, "how long writing one response may take (chat sockets excepted); 0 = no bound")
	var regRate string
	str(&regRate, "register-rate", "APP_REGISTER_RATE", "60", "accounts one client address may register an hour, in bursts of half that; 0 = no limit")
	var respMem int
	num(&respMem, "response-memory", "APP_RESPONSE_MEMORY", 32<<20, "bytes that post lists and posts being answered may hold at once, all requests together; 0 = no bound")
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil || r < 0 {
		return nil, fs, fmt.Errorf("-chat-rate: %q is not a number ≥ 0", rate)
	}
	c.chatRate = r
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.corsOrigins = append(c.corsOrigins, o)
		}
	}
	if c.proxies, err = web.ParseCIDRs(proxies); err != nil {
		return nil, fs, fmt.Errorf("-trusted-proxies: %w", err)
	}
	c.maxUpload = int64(upload)
	c.responseMemory = int64(respMem)
	if c.registerRate, err = strconv.ParseFloat(regRate, 64); err != nil || c.registerRate < 0 {
		return nil, fs, fmt.Errorf("-register-rate: %q is not a number ≥ 0", regRate)
	}
	switch {
	case c.logFormat != "text" && c.logFormat != "json":
		return nil, fs, fmt.Errorf("-log-format: want text or json, not %q", c.logFormat)
	case c.chatMaxLen < 1:
		return nil, fs, fmt.Errorf("-chat-max-len: must be at least 1")
	case c.maxUpload < 1024:
		return nil, fs, fmt.Errorf("-max-upload: must be at least 1024 bytes")
	case c.readHeaderTimeout < 0 || c.idleTimeout < 0 || c.writeTimeout < 0 || c.responseMemory < 0:
		return nil, fs, fmt.Errorf("timeouts and -response-memory may not be negative")
	case c.accessTTL <= 0 || c.refreshTTL <= 0:
		return nil, fs, fmt.Errorf("token lifetimes must be positive")
	case c.postRate < 0 || c.roomRate < 0 || c.chatSockets < 0:
		return nil, fs, fmt.Errorf("-post-rate, -room-rate and -chat-sockets: must not be negative")
	case c.refreshAge < 0:
		return nil, fs, fmt.Errorf("-refresh-max-age: must not be negative")
	}
	return &c, fs, nil
}

func (c *config) dbPath() string { return filepath.Join(c.data, "app.db") }

func newLogger(c *config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %q is not one of debug, info, warn, error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// buildVersion is the version stamped at build time, else the VCS revision
// Go recorded, else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return "dev"
}

// run is the whole program, so that tests can run it too: args without the
// program name, the environment through getenv, input from stdin (only
// set-password reads it), output to stdout and stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "serve", "backup", "make-admin", "set-password", "version":
			cmd, args = args[0], args[1:]
		}
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "maru", buildVersion())
		return nil
	}
	c, fs, err := parseFlags(cmd, args, getenv, stderr)
	if err != nil {
		return err
	}
	switch cmd {
	case "backup":
		if fs.NArg() != 1 {
			return errors.New("usage: app backup [flags] FILE")
		}
		return backup(ctx, c, fs.Arg(0), stdout)
	case "make-admin":
		if fs.NArg() != 1 {
			return errors.New("usage: app make-admin [flags] EMAIL")
		}
		return makeAdmin(ctx, c, fs.Arg(0), stdout)
	case "set-password":
		if fs.NArg() != 1 {
			return errors.New("usage: app set-password [flags] [-generate] EMAIL (the password on standard input)")
		}
		return setPassword(ctx, c, fs.Arg(0), stdin, stdout)
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	tuneGC(getenv)
	return serve(ctx, c, stdout, stderr)
}

// Go's collector, unless GOGC or GOMEMLIMIT say otherwise: it runs once
// the heap has grown to five times what is live (GOGC=400, against Go's
// twice) and, whatever that comes to, as the process nears 256 MiB (a soft
// limit: near it the collector works harder instead). A server's live heap
// is small, tens of MB, and it allocates a few KB a request: with Go's
// default the collector took a fifth of the CPU of serving the board's
// list, which served 25-28 % more requests a second without it. A limit
// of 120 MiB, which keeps 2,000 chat sockets in 130 MB (the systemd unit
// in the README sets it), cost a busy server with full caches an eighth of
// its chat deliveries, the collector running all the time near it.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 256 << 20
)

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// openExisting opens the database of c for a maintenance command: it
// refuses to create one (they act on a server's data, never on an empty
// new file) and, since a server may be running on it, to migrate one whose
// schema is not exactly this binary's.
func openExisting(ctx context.Context, c *config) (*store.Store, error) {
	if _, err := os.Stat(c.dbPath()); err != nil {
		return nil, fmt.Errorf("no database at %s (see -data): %w", c.dbPath(), err)
	}
	return store.Open(ctx, c.dbPath(), store.Options{BcryptCost: c.bcryptCost, NoMigrate: true})
}

// backup copies the database of c to dst, reading it only.
func backup(ctx context.Context, c *config, dst string, stdout io.Writer) error {
	if _, err := os.Stat(c.dbPath()); err != nil {
		return fmt.Errorf("no database at %s (see -data): %w", c.dbPath(), err)
	}
	if err := store.Backup(ctx, c.dbPath(), dst); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "backup written to", dst)
	return nil
}

func makeAdmin(ctx context.Context, c *config, email string, stdout io.Writer) error {
	st, err := openExisting(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user with email %q", email)
	} else if err != nil {
		return err
	}
	if u.Deleted {
		return fmt.Errorf("no user with email %q", email)
	}
	if _, err := st.SetAdminByID(ctx, nil, u.ID, true); err != nil {
		return err
	}
	fmt.Fprintln(stdout, u.Email, "is now an admin")
	return nil
}

// setPassword gives the account with email a new password, read from the
// first line of stdin or, with -generate, made up and printed. Every
// session, refresh token and reset link of the account ends; access tokens
// stop working at once too (their auth epoch is gone).
func setPassword(ctx context.Context, c *config, email string, stdin io.Reader, stdout io.Writer) error {
	password := ""
	if c.generate {
		password = generatePassword()
	} else {
		line, err := bufio.NewReader(io.LimitReader(stdin, 1<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("no password on standard input (or use -generate)")
		}
	}
	st, err := openExisting(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user with email %q", email)
	} else if err != nil {
		return err
	}
	if _, err := st.SetPassword(ctx, u.ID, password); err != nil {
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("password refused: %s", strings.Join(ve.Fields["password"], " "))
		}
		return err
	}
	if err := st.Audit(ctx, nil, "user.set_password", fmt.Sprintf("user %d (%s)", u.ID, u.Email), ""); err != nil {
		return err
	}
	if c.generate {
		fmt.Fprintf(stdout, "new password for %s: %s\n", u.Email, password)
	} else {
		fmt.Fprintf(stdout, "password of %s changed\n", u.Email)
	}
	fmt.Fprintln(stdout, "every session and token of the account has ended")
	return nil
}

// generatePassword makes up a password of 16 characters from letters and
// digits that do not look alike: about 90 bits, easy to read out.
func generatePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// serve runs the server until ctx is cancelled, then shuts down in order:
// stop accepting and finish in-flight requests, close the server's own
// long-lived connections, and close the database.
func serve(ctx context.Context, c *config, stdout, stderr io.Writer) error {
	start := time.Now()
	logger, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, c.dbPath(), store.Options{BcryptCost: c.bcryptCost})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			logger.Error("close database", "err", err)
		}
	}()
	srv, err := web.NewServer(web.Config{
		BaseURL:        c.baseURL,
		Version:        buildVersion(),
		MaxUploadBytes: c.maxUpload,
		AccessTTL:      c.accessTTL,
		RefreshTTL:     c.refreshTTL,
		RefreshMaxAge:  offIfZero(c.refreshAge),
		ChatSockets:    offIfZero(c.chatSockets),
		PostRate:       float64(offIfZero(c.postRate)),
		RoomRate:       float64(offIfZero(c.roomRate)),
		ChatMaxLen:     c.chatMaxLen,
		ChatRate:       chatRate(c.chatRate),
		TrustedProxies: c.proxies,
		WriteTimeout:   offIfZero(c.writeTimeout),
		ResponseMemory: offIfZero(c.responseMemory),
		RegisterRate:   offIfZero(c.registerRate),
		Signup:         c.signup,
		Metrics:        c.metricsAddr != "",
		CORSOrigins:    c.corsOrigins,
	}, logger, st, staticFS())
	if err != nil {
		return err
	}
	// Listen before serving, so that "address in use" is reported at once
	// and -addr :0 works (tests read the chosen address from the log).
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: c.readHeaderTimeout,
		IdleTimeout:       c.idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if c.metricsAddr != "" {
		stop, err := serveMetrics(c.metricsAddr, srv.MetricsHandler(), logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	go purgeExpired(ctx, st, logger)

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "data", c.data, "version", buildVersion(),
		"startup", time.Since(start).Round(time.Microsecond))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownWait)
	defer cancel()
	err = hs.Shutdown(sctx)
	srv.Close()
	if err != nil {
		logger.Warn("in-flight requests cut off at shutdown timeout", "err", err)
	}
	return nil
}

// chatRate maps the -chat-rate flag, where 0 turns the limit off, to
// web.Config.ChatRate, where 0 means the default and off is negative.
func chatRate(perSecond float64) float64 {
	if perSecond == 0 {
		return -1
	}
	return perSecond
}

// offIfZero maps a flag where 0 turns a limit off to a web.Config field
// where 0 means the default and off is negative.
func offIfZero[T int | int64 | float64 | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// purgeExpired deletes expired tokens and sessions once an hour.
func purgeExpired(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := st.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			logger.Error("purge expired", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveMetrics serves /metrics alone on a listener of its own, so that the
// metrics are never public by accident: the operator chooses an address
// that only the monitoring can reach (127.0.0.1:9090, a VPN address).
func serveMetrics(addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	ms := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go ms.Serve(ln)
	logger.Info("serving metrics", "addr", ln.Addr().String())
	return func() { ms.Close() }, nil
}
