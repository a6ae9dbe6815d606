//go:build !cgo

package infer

// A build without cgo cannot load onnxruntime: every entry point here fails
// with ErrNoCgo (Locate refuses first, before any search or download), and
// the rest of the module still builds, vets and runs what needs no model.

const cgoEnabled = false

type session struct{}

func initRuntime(string) error { return ErrNoCgo }

func graphInfo([]byte) (inputs, outputs []tensorInfo, err error) { return nil, nil, ErrNoCgo }

func newSession([]byte, []string, []string, string, int) (*session, error) { return nil, ErrNoCgo }

func (*session) run([]tensorData, []float32, int, int) error { return ErrNoCgo }

func (*session) destroy() error { return nil }

func cudaSessionOptions() error { return ErrNoCgo }

func probeLibrary(string) (string, bool, error) { return "", false, ErrNoCgo }

func libraryProviders(string) ([]string, error) { return nil, ErrNoCgo }

func canLoad(string) error { return ErrNoCgo }

func cudaDeviceCount() (int, error) { return 0, ErrNoCgo }
