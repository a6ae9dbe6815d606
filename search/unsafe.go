package search

import "unsafe"

func unsafePointer(p *int8) unsafe.Pointer { return unsafe.Pointer(p) }
