package harness

import "syscall"

// groupLeader starts a server as the leader of its own process group. Pdeathsig is the last
// resort for when wsgispec itself is killed (SIGKILL runs no defer): the leader is told to shut
// down, and a server's master takes its workers with it.
func groupLeader() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
