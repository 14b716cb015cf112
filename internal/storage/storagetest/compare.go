package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// diff lists where got differs from want. The rules every backend is held to:
//   - times compare with time.Time.Equal, and a non-zero time must come back
//     in UTC (storage.Store: "times are stored in UTC");
//   - a nil slice and an empty slice are equal, because SQL backends cannot
//     tell them apart and no caller may depend on the difference.
func diff(what string, want, got any) []string {
	var out []string
	diffValue(&out, what, reflect.ValueOf(want), reflect.ValueOf(got))
	return out
}

func diffValue(out *[]string, path string, want, got reflect.Value) {
	switch {
	case want.Type() == timeType:
		w, g := want.Interface().(time.Time), got.Interface().(time.Time)
		switch {
		case !w.Equal(g):
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, g, w))
		case !g.IsZero() && g.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: got %v, want it in UTC", path, g))
		}
	case want.Kind() == reflect.Struct:
		for i := range want.NumField() {
			name := path + "." + want.Type().Field(i).Name
			diffValue(out, name, want.Field(i), got.Field(i))
		}
	case want.Kind() == reflect.Slice && want.Type().Elem().Kind() == reflect.Struct:
		if want.Len() != got.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d records, want %d", path, got.Len(), want.Len()))
			return
		}
		for i := range want.Len() {
			diffValue(out, fmt.Sprintf("%s[%d]", path, i), want.Index(i), got.Index(i))
		}
	case want.Kind() == reflect.Slice:
		if want.Len() != got.Len() || (want.Len() > 0 && !reflect.DeepEqual(want.Interface(), got.Interface())) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
		}
	}
}

func show(v reflect.Value) string {
	if b, ok := v.Interface().([]byte); ok {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%#v", v.Interface())
}

// check fails the test (without stopping it) if got differs from want.
func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if d := diff(what, want, got); len(d) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

// requireAllSet stops the test if a fixture leaves a field at its zero value,
// so a round trip covers every field; a field added to storage.go later shows
// up here until the fixture sets it.
func requireAllSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.IsZero() || (f.Kind() == reflect.Slice && f.Len() == 0) {
			t.Fatalf("fixture %T leaves %s unset; set it so the round trip covers it",
				v, rv.Type().Field(i).Name)
		}
	}
}

// scribble overwrites, in place, the first element of every non-empty []byte
// and []string field of the struct p points to. A store that shares slices
// with its callers shows the scribbles in its next answer.
func scribble(p any) {
	rv := reflect.ValueOf(p).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.Kind() != reflect.Slice || f.Len() == 0 {
			continue
		}
		switch e := f.Index(0); e.Kind() {
		case reflect.Uint8:
			e.SetUint(e.Uint() ^ 0xff)
		case reflect.String:
			e.SetString("scribbled")
		}
	}
}

// must stops the test on an unexpected error.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr stops the test unless errors.Is(err, target).
func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}
