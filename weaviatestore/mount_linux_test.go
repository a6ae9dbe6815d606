package weaviatestore

import "syscall"

// bindMount mounts dir at at (root only) and returns the unmount.
func bindMount(dir, at string) (func(), error) {
	if err := syscall.Mount(dir, at, "", syscall.MS_BIND, ""); err != nil {
		return nil, err
	}
	return func() { syscall.Unmount(at, 0) }, nil
}
