package projections

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SettingSpec describes one operator setting: what it accepts, for
// validation and for the one-line message an operator sees.
type SettingSpec struct {
	Name    string
	Accepts string
	Default string
	Secret  bool
	// canonical validates a value and returns its journaled form.
	canonical func(string) (string, error)
}

func boolSetting(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return "true", nil
	case "false", "no", "off", "0":
		return "false", nil
	}
	return "", fmt.Errorf("not a boolean")
}

func textSetting(max int) func(string) (string, error) {
	return func(v string) (string, error) {
		if len(v) > max {
			return "", fmt.Errorf("longer than %d characters", max)
		}
		if strings.ContainsAny(v, "\n\r\x00") {
			return "", fmt.Errorf("contains a control character")
		}
		return v, nil
	}
}

func urlSetting(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(v) > 256 {
		return "", fmt.Errorf("not an http:// or https:// URL without credentials")
	}
	return v, nil
}

// intervalSetting accepts seconds ("3600") or a Go duration ("1h",
// "90s", "1h30m"); the journal keeps whole seconds.
func intervalSetting(v string) (string, error) {
	v = strings.TrimSpace(v)
	var secs uint64
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		secs = n
	} else {
		d, err := time.ParseDuration(v)
		if err != nil || d%time.Second != 0 {
			return "", fmt.Errorf("not a duration")
		}
		secs = uint64(d / time.Second)
	}
	if secs < 1 || secs > 1<<32-1 {
		return "", fmt.Errorf("out of range")
	}
	return strconv.FormatUint(secs, 10), nil
}

func portSetting(v string) (string, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("not a port")
	}
	return strconv.FormatUint(n, 10), nil
}

// pemFileSetting checks that the file exists and holds what it should;
// the journal keeps the path (never the key itself).
func pemFileSetting(wantKey bool) func(string) (string, error) {
	return func(v string) (string, error) {
		if v == "" {
			return "", nil
		}
		b, err := ReadPEMFile(v)
		if err != nil {
			return "", err
		}
		if wantKey {
			if _, err := tls.X509KeyPair(b, b); err != nil {
				return "", fmt.Errorf("%s holds no certificate with its private key", v)
			}
			return v, nil
		}
		block, _ := pem.Decode(b)
		if block == nil {
			return "", fmt.Errorf("%s holds no PEM certificate", v)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "", fmt.Errorf("%s holds no valid certificate", v)
		}
		return v, nil
	}
}

// maxPEMFile bounds a certificate file: a CA bundle of every public root
// is about 200 KiB.
const maxPEMFile = 1 << 20

// ReadPEMFile reads a certificate file named in a setting (by cwmpd set,
// and by the daemon at every session). Only a regular file is read, and
// only up to maxPEMFile: a path to a FIFO or a terminal would block the
// reader forever, and /dev/zero would fill the memory before any check
// ran. It is opened without blocking and checked on the open file, so a
// file swapped for a FIFO after a check cannot block it either.
func ReadPEMFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("%s is larger than %d KiB", path, maxPEMFile>>10)
	}
	return b, nil
}

// SettingSpecs are the operator's settings: the seed's seven, plus what a
// real deployment needs.
var SettingSpecs = []SettingSpec{
	{Name: SettingEnabled, Accepts: "yes or no", Default: "true", canonical: boolSetting},
	{Name: SettingACSURL, Accepts: "an http:// or https:// URL (https in production)", canonical: urlSetting},
	{Name: SettingUsername, Accepts: "text up to 256 characters", canonical: textSetting(256)},
	{Name: SettingPassword, Accepts: "text up to 256 characters", Secret: true, canonical: textSetting(256)},
	{Name: SettingPeriodicInformEnabled, Accepts: "yes or no", Default: "true", canonical: boolSetting},
	{Name: SettingPeriodicInformInterval, Accepts: "a duration like 1h, 15m or 3600 (seconds), at least 1s", Default: "3600", canonical: intervalSetting},
	{Name: SettingClientCertificate, Accepts: "the path of a PEM file with the client certificate and its key", canonical: pemFileSetting(true)},
	{Name: SettingCACertificate, Accepts: "the path of a PEM file with the CA certificate(s) to trust for the ACS", canonical: pemFileSetting(false)},
	{Name: SettingConnectionRequestUsername, Accepts: "text up to 256 characters", canonical: textSetting(256)},
	{Name: SettingConnectionRequestPassword, Accepts: "text up to 256 characters", Secret: true, canonical: textSetting(256)},
	{Name: SettingConnectionRequestPort, Accepts: "a TCP port 1-65535", Default: "7547", canonical: portSetting},
}

// SpecOf returns a setting's spec.
func SpecOf(name string) (SettingSpec, bool) {
	for _, s := range SettingSpecs {
		if s.Name == name {
			return s, true
		}
	}
	return SettingSpec{}, false
}

// SettingError names the setting and what it accepts.
type SettingError struct {
	Name, Value, Accepts, Why string
}

func (e *SettingError) Error() string {
	if e.Accepts == "" {
		return fmt.Sprintf("unknown setting %q (settings: %s)", e.Name, strings.Join(SettingNames(), ", "))
	}
	return fmt.Sprintf("%s: %s; it takes %s", e.Name, e.Why, e.Accepts)
}

// SettingNames lists the settings in their documented order.
func SettingNames() []string {
	out := make([]string, len(SettingSpecs))
	for i, s := range SettingSpecs {
		out[i] = s.Name
	}
	return out
}

// ValidateSetting returns a setting's canonical (journaled) form.
func ValidateSetting(name, value string) (string, error) {
	spec, ok := SpecOf(name)
	if !ok {
		return "", &SettingError{Name: name}
	}
	v, err := spec.canonical(value)
	if err != nil {
		return "", &SettingError{Name: name, Value: value, Accepts: spec.Accepts, Why: err.Error()}
	}
	return v, nil
}

// ParseAssignments parses "name=value" arguments (as given to cwmpd set or
// found in a defaults file), validates every one and returns them in
// canonical form, sorted by name; any error means nothing is returned.
func ParseAssignments(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: expected name=value", a)
		}
		v, err := ValidateSetting(name, value)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// SortedSettings turns a map into journal order (by name).
func SortedSettings(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
