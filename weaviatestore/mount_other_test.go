//go:build !linux

package weaviatestore

import "errors"

func bindMount(dir, at string) (func(), error) {
	return nil, errors.New("bind mounts are Linux's")
}
