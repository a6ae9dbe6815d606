//go:build unix

package store

import (
	"os/exec"
	"syscall"
)

// asNobody makes cmd run as user nobody (65534).
func asNobody(cmd *exec.Cmd) bool {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	return true
}
