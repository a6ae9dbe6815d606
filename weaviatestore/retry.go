package weaviatestore

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
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

// httpStatus is the HTTP status of a client error (0 for none).
func httpStatus(err error) int {
	var fe *fault.WeaviateClientError
	if errors.As(err, &fe) {
		return fe.StatusCode
	}
	return 0
}

// retry runs f until it succeeds, fails for good, or attempts run out,
// waiting longer each time: a refused connection, a timeout, a 5xx or 429
// (a node down or busy, a leader election) are transient; other 4xx and
// a cancelled context are not.
func retry(ctx context.Context, f func() error) error {
	wait := firstWait
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt == attempts || !transient(err) || ctx.Err() != nil {
			return err
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, maxWait)
	}
}

func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if c := httpStatus(err); c >= 400 && c < 500 && c != http.StatusTooManyRequests && c != http.StatusRequestTimeout {
		return false
	}
	return grpcTransient(err)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
