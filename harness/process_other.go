//go:build !linux

package harness

import "syscall"

// groupLeader starts a server as the leader of its own process group. Only Linux has a parent
// death signal; elsewhere a wsgispec killed with SIGKILL leaves its servers behind.
func groupLeader() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
