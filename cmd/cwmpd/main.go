// Command cwmpd is the TR-069 agent and its operator tools, in one binary
// (flash is small). This file is wiring only: the logic lives in the
// packages it calls.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
