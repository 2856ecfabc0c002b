package projections

import (
	"sort"
	"strconv"

	"github.com/cwmpd/cwmpd/projections/event"
)

// Setting names: the seed's writable settings, plus what a real deployment
// needs. Values are canonical strings (validated before they are journaled).
const (
	SettingEnabled                   = "enabled"
	SettingACSURL                    = "acs-url"
	SettingUsername                  = "username"
	SettingPassword                  = "password"
	SettingPeriodicInformEnabled     = "periodic-inform-enabled"
	SettingPeriodicInformInterval    = "periodic-inform-interval"
	SettingClientCertificate         = "client-certificate"
	SettingCACertificate             = "ca-certificate"
	SettingConnectionRequestUsername = "connection-request-username"
	SettingConnectionRequestPassword = "connection-request-password"
	SettingConnectionRequestPort     = "connection-request-port"
)

// SettingParameters maps the settings that mirror a Device.ManagementServer
// parameter, so an SPV from the ACS and a local set are one value.
var SettingParameters = map[string]string{
	SettingEnabled:                   "Device.ManagementServer.EnableCWMP",
	SettingACSURL:                    "Device.ManagementServer.URL",
	SettingUsername:                  "Device.ManagementServer.Username",
	SettingPassword:                  "Device.ManagementServer.Password",
	SettingPeriodicInformEnabled:     "Device.ManagementServer.PeriodicInformEnable",
	SettingPeriodicInformInterval:    "Device.ManagementServer.PeriodicInformInterval",
	SettingConnectionRequestUsername: "Device.ManagementServer.ConnectionRequestUsername",
	SettingConnectionRequestPassword: "Device.ManagementServer.ConnectionRequestPassword",
}

var parameterSettings = func() map[string]string {
	m := map[string]string{}
	for s, p := range SettingParameters {
		m[p] = s
	}
	return m
}()

// SettingForParameter returns the setting a parameter mirrors, if any.
func SettingForParameter(param string) (string, bool) {
	s, ok := parameterSettings[param]
	return s, ok
}

// Settings are the operator's settings as journaled.
type Settings map[string]string

// Get returns a setting's value ("" when never set).
func (s Settings) Get(name string) string { return s[name] }

// Bool reads a boolean setting; unset means def.
func (s Settings) Bool(name string, def bool) bool {
	v, ok := s[name]
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// Uint reads an unsigned setting; unset or invalid means def.
func (s Settings) Uint(name string, def uint64) uint64 {
	v, err := strconv.ParseUint(s[name], 10, 64)
	if err != nil {
		return def
	}
	return v
}

// Names returns the set names, sorted.
func (s Settings) Names() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func settingsFrom(list []event.Setting) Settings {
	s := Settings{}
	for _, kv := range list {
		s[kv.Name] = kv.Value
	}
	return s
}

// Status values of the seed's read-only "status" setting.
const (
	StatusDisabled   = "disabled"
	StatusWaitingURL = "waiting-URL"
	StatusRunning    = "running"
)

// Status is the seed's read-only settings.
type Status struct {
	Status           string `json:"status"`
	LastSessionError string `json:"last-session-error"`
	RetryCount       int    `json:"retry-count"`
	// JournalRecovered says when and why this journal replaced a damaged
	// one, and where that one was kept; empty otherwise.
	JournalRecovered string `json:"journal-recovered,omitempty"`
}
