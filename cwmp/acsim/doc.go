// Package acsim is a scriptable ACS for tests: placeholder, see below.
package acsim
