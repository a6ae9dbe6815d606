package models

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// BuiltinName is the --model name of the model embedded in the binary.
const BuiltinName = "builtin"

//go:embed builtin
var builtinFS embed.FS

// Model is a manifest together with the place its files are read from:
// a directory on disk or the files embedded in the binary.
type Model struct {
	Manifest *Manifest
	// Dir is the directory holding the files; "" for the built-in model.
	Dir   string
	files fs.FS
	// digest is the verified SHA-256 of the image tower file (of a tuned
	// model: see Digest).
	digest string
	// base is a tuned model's base model (Manifest.Head); nil otherwise.
	base *Model
}

// ReadFile returns the bytes of one of the model's files. A tuned model's
// image tower file is its base model's.
func (m *Model) ReadFile(name string) ([]byte, error) {
	if m.base != nil && name == m.Manifest.Image.File {
		return m.base.ReadFile(name)
	}
	return fs.ReadFile(m.files, name)
}

// Digest is the SHA-256 (hex) of the image tower's ONNX file, verified at
// load. For a tuned model it is the SHA-256 of the base's digest, a colon
// and the head file's digest: it changes when either does.
func (m *Model) Digest() string { return m.digest }

// Base is a tuned model's base model (whose image tower runs before the
// head), or nil.
func (m *Model) Base() *Model { return m.base }

// Builtin returns the model embedded in the binary.
func Builtin() (*Model, error) {
	sub, err := fs.Sub(builtinFS, "builtin")
	if err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(sub, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrUnknownModel, ErrNoBuiltin)
	}
	if err != nil {
		return nil, err
	}
	man, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("built-in model: %w", err)
	}
	return load(man, "", sub)
}

// Open resolves a --model argument: "" or "builtin" is the built-in model; a
// directory holding manifest.json, or an .onnx file with manifest.json beside
// it, is a local model; any other name is looked up in the registry.
func Open(spec string) (*Model, error) {
	if spec == "" || spec == BuiltinName {
		return Builtin()
	}
	if st, err := os.Stat(spec); err == nil {
		dir := spec
		if !st.IsDir() {
			dir = filepath.Dir(spec)
		}
		man, err := ReadManifest(filepath.Join(dir, ManifestName))
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", spec, err)
		}
		if !st.IsDir() && filepath.Base(spec) != man.Image.File {
			return nil, fmt.Errorf("%w: %s is not the image file %q named by %s", ErrBadManifest,
				spec, man.Image.File, filepath.Join(dir, ManifestName))
		}
		return load(man, dir, os.DirFS(dir))
	}
	if opener, ok := registry[spec]; ok {
		return opener()
	}
	return nil, fmt.Errorf("%w %q: not a model directory, an .onnx file or a known name (known: %s)",
		ErrUnknownModel, spec, strings.Join(Names(), ", "))
}

// registry maps model names to openers. Zoo models register here.
var registry = map[string]func() (*Model, error){
	BuiltinName: Builtin,
}

// Names lists the registered model names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// load verifies every file listed in the manifest (size, SHA-256 when known)
// and returns the model.
func load(man *Manifest, dir string, files fs.FS) (*Model, error) {
	m := &Model{Manifest: man, Dir: dir, files: files}
	for _, f := range man.Files {
		data, err := fs.ReadFile(files, f.Name)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", man.ID, err)
		}
		sum := sha256.Sum256(data)
		got := hex.EncodeToString(sum[:])
		if int64(len(data)) != f.Size || (f.SHA256 != "" && got != f.SHA256) {
			return nil, fmt.Errorf("%w: model %s file %s: have %d bytes sha256 %s, manifest says %d bytes sha256 %s",
				ErrChecksum, man.ID, f.Name, len(data), got, f.Size, f.SHA256)
		}
		if f.Name == man.Image.File {
			m.digest = got
		}
		if man.Head != nil && f.Name == man.Head.File {
			m.digest = got
		}
	}
	if man.Head != nil {
		base, err := openBase(man)
		if err != nil {
			return nil, err
		}
		m.base = base
		sum := sha256.Sum256([]byte(base.digest + ":" + m.digest))
		m.digest = hex.EncodeToString(sum[:])
	}
	if m.digest == "" {
		return nil, fmt.Errorf("%w: model %s: image file %q is not listed in files", ErrBadManifest, man.ID, man.Image.File)
	}
	return m, nil
}

// openByPath and openByID are Open and OpenID, set in init: load, which
// opens a tuned model's base, is reached from the registry's initialiser.
var openByPath, openByID func(string) (*Model, error)

func init() { openByPath, openByID = Open, OpenID }

// openBase opens and checks a tuned model's base model: from the folder
// it records, else the registered model with its id.
func openBase(man *Manifest) (*Model, error) {
	b := man.Head.Base
	var base *Model
	var err error
	if _, serr := os.Stat(b.Source); b.Source != "" && serr == nil {
		base, err = openByPath(b.Source)
	} else {
		base, err = openByID(b.ID)
		if err != nil && b.Source != "" {
			err = fmt.Errorf("%s is gone and %w", b.Source, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s of model %s: %w", ErrBaseModel, b.ID, man.ID, err)
	}
	bm := base.Manifest
	switch {
	case bm.Head != nil:
		err = fmt.Errorf("it is a tuned model itself")
	case base.digest != b.SHA256:
		err = fmt.Errorf("its image file has sha256 %s, the head was trained on %s", base.digest, b.SHA256)
	case bm.Dim != man.Head.InputDim:
		err = fmt.Errorf("it gives %d values, the head takes %d", bm.Dim, man.Head.InputDim)
	case bm.Image != man.Image || bm.Preprocess.Fingerprint() != man.Preprocess.Fingerprint():
		err = fmt.Errorf("its image input or preprocessing differs from the tuned model's manifest")
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s of model %s: %w", ErrBaseModel, b.ID, man.ID, err)
	}
	return base, nil
}

// NameForID returns the registry name of the model whose manifest id is id
// (the id a store records), e.g. "builtin" for the current built-in model's
// id and the id itself for another one it carries (OtherBuiltins). Local model
// directories are not registered: for those there is no name.
func NameForID(id string) (string, bool) {
	if m, err := Builtin(); err == nil && m.Manifest.ID == id {
		return BuiltinName, true
	}
	if isOtherBuiltin(id) {
		return id, true
	}
	for _, e := range Zoo() {
		if e.Manifest.ID == id {
			return e.Name, true
		}
	}
	return "", false
}

// ErrRetiredBuiltin: a store was made with the built-in model of another
// embedsearch version, whose vectors this build cannot reproduce.
var ErrRetiredBuiltin = errors.New("store was made with the built-in model of another embedsearch version")

// RetiredBuiltin returns an ErrRetiredBuiltin error when id names a
// built-in model other than the one in this binary and the others it
// carries (OtherBuiltins), else nil.
func RetiredBuiltin(id string) error {
	b, err := Builtin()
	if err != nil || !strings.HasPrefix(id, BuiltinName+"-") || id == b.Manifest.ID || isOtherBuiltin(id) {
		return nil
	}
	return fmt.Errorf("%w: it holds vectors of %s, this build ships %s, and the two are not comparable",
		ErrRetiredBuiltin, id, b.Manifest.ID)
}

// OpenID opens the registered model whose manifest id is id.
func OpenID(id string) (*Model, error) {
	if err := RetiredBuiltin(id); err != nil {
		return nil, err
	}
	name, ok := NameForID(id)
	if !ok {
		return nil, fmt.Errorf("%w: %w %q", ErrUnknownModel, ErrUnregisteredID, id)
	}
	return Open(name)
}
