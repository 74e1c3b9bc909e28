package main

import "syscall"

// newMountNamespace starts a process in a mount namespace of its own; Go
// makes its mounts private, so what it mounts stays there.
func newMountNamespace() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
}

// asNobody starts a process as the unprivileged user nobody.
func asNobody() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}
