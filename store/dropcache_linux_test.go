package store

import "syscall"

// dropCache asks the kernel to drop path's pages from the page cache.
func dropCache(path string) error {
	fd, err := syscall.Open(path, syscall.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	syscall.Syscall6(syscall.SYS_FADVISE64, uintptr(fd), 0, 0, 4 /* POSIX_FADV_DONTNEED */, 0, 0)
	return nil
}
