// Command acsim runs cwmp/acsim's simulated ACS for shell tests and the
// demo: flags in, listeners up, zerolog out. All logic is in cwmp/acsim;
// see its package documentation for the admin API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/rs/zerolog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	os.Exit(code)
}

// run parses flags, starts the server and blocks until ctx ends; ready,
// when set, sees the started server (for tests). Exit codes: 0 clean stop,
// 1 start-up failure, 2 bad usage.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(*acsim.Server)) int {
	fs := flag.NewFlagSet("acsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen      = fs.String("listen", "127.0.0.1:7557", "CWMP listen address")
		admin       = fs.String("admin", "127.0.0.1:7558", "admin API listen address")
		filesListen = fs.String("files-listen", "127.0.0.1:7559", "file server listen address")
		path        = fs.String("path", "/acs", "CWMP path in the advertised URL")
		tlsCert     = fs.String("tls-cert", "", "PEM certificate: serve CWMP and files over HTTPS")
		tlsKey      = fs.String("tls-key", "", "PEM key for --tls-cert")
		tlsClientCA = fs.String("tls-client-ca", "", "PEM CA bundle: require client certificates signed by it")
		auth        = fs.String("auth", "none", "CWMP authentication: none, basic or digest")
		user        = fs.String("user", "", "CWMP username")
		pass        = fs.String("pass", "", "CWMP password (or $ACSIM_PASS, which keeps it out of ps)")
		cookieOpt   = fs.Bool("cookie-optional", false, "do not require the session cookie on POSTs after the Inform")
		retryUnans  = fs.Bool("retry-unanswered", false, "send a request again in the next session when its session failed or was abandoned before the CPE answered it")
		useVersion  = fs.String("use-cwmp-version", "", "send UseCWMPVersion with this version in InformResponse")
		scenario    = fs.String("scenario", "", "JSON scenario file applied at start")
		filesDir    = fs.String("files", "", "directory served under /files/ on the file server")
		uploadDir   = fs.String("upload-dir", "", "directory that also receives uploads")
		filesAuth   = fs.String("files-auth", "none", "file server authentication: none, basic or digest")
		filesUser   = fs.String("files-user", "", "file server username")
		filesPass   = fs.String("files-pass", "", "file server password (or $ACSIM_FILES_PASS)")
		crUser      = fs.String("cr-user", "", "connection request username")
		crPass      = fs.String("cr-pass", "", "connection request password (or $ACSIM_CR_PASS)")
		schema      = fs.String("schema", "auto", "xmllint validation of CPE bodies: auto, off or require")
		bbfDir      = fs.String("bbf-dir", "", "BBF schema directory (default $CWMP_BBF_DIR or ../shared/bbf from the repository)")
		soapXSD     = fs.String("soap-xsd-dir", "", "SOAP envelope/encoding schemas (default cwmp/soap/testdata/xsd in the repository)")
		logFormat   = fs.String("log-format", "json", "log format: json or console")
		logLevel    = fs.String("log-level", "info", "log level: debug, info, warn, error")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "acsim: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var out io.Writer = stderr
	switch *logFormat {
	case "json":
	case "console":
		out = zerolog.ConsoleWriter{Out: stderr}
	default:
		fmt.Fprintf(stderr, "acsim: --log-format %q: want json or console\n", *logFormat)
		return 2
	}
	level, err := zerolog.ParseLevel(*logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "acsim: --log-level: %v\n", err)
		return 2
	}
	log := zerolog.New(out).Level(level).With().Timestamp().Str("component", "acsim").Logger()

	envOr := func(v, name string) string {
		if v == "" {
			return os.Getenv(name)
		}
		return v
	}
	cwmpMode, err := acsim.ParseAuthMode(*auth)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fileMode, err := acsim.ParseAuthMode(*filesAuth)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg := acsim.Config{
		Listen: *listen, AdminListen: *admin, FilesListen: *filesListen, Path: *path,
		Auth:           acsim.Auth{Mode: cwmpMode, Username: *user, Password: envOr(*pass, "ACSIM_PASS")},
		CookieOptional: *cookieOpt, RetryUnanswered: *retryUnans, UseCWMPVersion: *useVersion,
		Schema: acsim.SchemaMode(*schema), BBFDir: *bbfDir, SOAPSchemaDir: *soapXSD,
		ConnReqUsername: *crUser, ConnReqPassword: envOr(*crPass, "ACSIM_CR_PASS"),
		FilesDir: *filesDir, UploadDir: *uploadDir,
		FileAuth: acsim.Auth{Mode: fileMode, Username: *filesUser, Password: envOr(*filesPass, "ACSIM_FILES_PASS")},
		Logger:   log,
	}
	if *tlsCert != "" || *tlsKey != "" {
		if cfg.TLS, err = acsim.TLSConfig(*tlsCert, *tlsKey, *tlsClientCA); err != nil {
			log.Error().Err(err).Msg("acsim: start")
			return 1
		}
	} else if *tlsClientCA != "" {
		fmt.Fprintln(stderr, "acsim: --tls-client-ca needs --tls-cert and --tls-key")
		return 2
	}
	srv, err := acsim.New(cfg)
	if err != nil {
		log.Error().Err(err).Msg("acsim: start")
		return 1
	}
	if *scenario != "" {
		sc, err := acsim.LoadScenario(*scenario)
		if err == nil {
			err = srv.ApplyScenario(sc)
		}
		if err != nil {
			log.Error().Err(err).Msg("acsim: start")
			return 1
		}
		log.Info().Str("file", *scenario).Int("rpcs", len(sc.RPCs)).Int("faults", len(sc.Faults)).Msg("acsim: scenario loaded")
	}
	if err := srv.Start(); err != nil {
		log.Error().Err(err).Msg("acsim: start")
		return 1
	}
	if ready != nil {
		ready(srv)
	}
	<-ctx.Done()
	log.Info().Msg("acsim: stopping")
	if err := srv.Close(); err != nil {
		log.Warn().Err(err).Msg("acsim: close")
	}
	return 0
}
