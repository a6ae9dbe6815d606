package models

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestZooEntriesAreConsistent(t *testing.T) {
	hex40 := regexp.MustCompile(`^[0-9a-f]{40}$`)
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	ids := map[string]bool{}
	want := []string{"clip-vit-b32", "clip-vit-l14", "dinov2-base", "dinov2-small", "mobileclip-s0", "mobileclip-s1", "siglip-b16-224"}
	if got := strings.Join(ZooNames(), ","); got != strings.Join(want, ",") {
		t.Errorf("zoo names %s, want %s", got, strings.Join(want, ","))
	}
	for _, e := range Zoo() {
		m := e.Manifest
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
		if ids[m.ID] {
			t.Errorf("%s: duplicate id %s", e.Name, m.ID)
		}
		ids[m.ID] = true
		if m.Source == nil || m.Source.Repo == "" {
			t.Fatalf("%s: no source", e.Name)
		}
		pinned := hex40.MatchString(m.Source.Revision)
		if !pinned && !strings.Contains(strings.Join(e.Unverified, " "), "revision not pinned") {
			t.Errorf("%s: revision %q is not a commit and the entry does not say so", e.Name, m.Source.Revision)
		}
		names := map[string]bool{}
		for _, f := range m.Files {
			names[f.Name] = true
			if !strings.HasPrefix(f.URL, m.Source.Repo+"/resolve/"+m.Source.Revision+"/") {
				t.Errorf("%s: %s URL %q is not under the pinned revision", e.Name, f.Name, f.URL)
			}
			if f.SHA256 != "" && !hex64.MatchString(f.SHA256) {
				t.Errorf("%s: %s digest %q", e.Name, f.Name, f.SHA256)
			}
			if f.SHA256 == "" && !strings.Contains(strings.Join(e.Unverified, " "), "SHA-256") {
				t.Errorf("%s: %s has no digest and the entry does not say so", e.Name, f.Name)
			}
		}
		if !names[m.Image.File] {
			t.Errorf("%s: image file %s not among the files", e.Name, m.Image.File)
		}
		if m.Text != nil {
			if !names[m.Text.File] || m.Tokenizer == nil || m.Tokenizer.Kind != "clip-bpe" || m.Text.Input.Context != m.Tokenizer.Context {
				t.Errorf("%s: text tower %+v / tokenizer %+v inconsistent", e.Name, m.Text, m.Tokenizer)
			}
		}
		if !(m.Thresholds.Exact < m.Thresholds.Near && m.Thresholds.Near < m.Thresholds.Similar && m.Thresholds.Similar < 2) {
			t.Errorf("%s: thresholds %+v not increasing within (0, 2)", e.Name, m.Thresholds)
		}
	}
	if got := strings.Join(TextModels(), ","); got != "clip-vit-b32,clip-vit-l14,mobileclip-s0,mobileclip-s1" {
		t.Errorf("text models %s", got)
	}
}

func TestZooNamesResolveThroughOpen(t *testing.T) {
	t.Setenv(EnvCacheDir, t.TempDir())
	_, err := Open("clip-vit-b32")
	var nc *NotCachedError
	if !errors.Is(err, ErrNotCached) || !errors.As(err, &nc) || nc.Name != "clip-vit-b32" || !strings.Contains(err.Error(), "clip-vit-b32") {
		t.Fatalf("Open of an un-pulled zoo model: %v, want a *NotCachedError naming clip-vit-b32", err)
	}
	if _, err := OpenID("no-such-id-v1"); !errors.Is(err, ErrUnknownModel) || !errors.Is(err, ErrUnregisteredID) || !strings.Contains(err.Error(), `"no-such-id-v1"`) {
		t.Errorf("OpenID of an id no model has: %v, want ErrUnknownModel and ErrUnregisteredID naming it", err)
	}
	if _, err := Open("no-such-model"); !errors.Is(err, ErrUnknownModel) || !strings.Contains(err.Error(), "dinov2-small") {
		t.Errorf("unknown name should list the zoo: %v", err)
	}
}
