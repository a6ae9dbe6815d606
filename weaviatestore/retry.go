package weaviatestore

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcTransient reports whether a gRPC error may pass on its own (a node
// down, overloaded, or electing a leader); errors that are not gRPC
// statuses (a refused connection, a 5xx) count as transient.
func grpcTransient(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return true
	}
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.Unauthenticated, codes.FailedPrecondition, codes.OutOfRange, codes.Unimplemented:
		return false
	}
	return true
}
