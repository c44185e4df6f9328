package jobs_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

var timeType = reflect.TypeOf(time.Time{})

// fill sets every exported field reachable from v to a non-zero value:
// pointers get a value, slices and maps two elements, an any field a
// nested JSON-like object. It is deterministic, so two fills are equal.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for _, k := range []string{"a", "b"} {
			key := reflect.New(v.Type().Key()).Elem()
			key.SetString(k)
			val := reflect.New(v.Type().Elem()).Elem()
			fill(val, depth+1)
			v.SetMapIndex(key, val)
		}
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"list": []any{"x", map[string]any{"deep": "y"}}, "n": 1.5}))
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(1)
	case reflect.Float64:
		v.SetFloat(1)
	}
}

// mutate changes every value reachable from v in place, through the same
// pointers, slice arrays and maps: anything a clone shares with its
// original changes in the original too.
func mutate(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			mutate(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				mutate(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			mutate(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(v.MapIndex(k))
			mutate(val)
			v.SetMapIndex(k, val)
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		inner := v.Elem()
		switch inner.Kind() {
		case reflect.Map, reflect.Slice:
			mutate(inner) // shares storage with the interface's value
		default:
			c := reflect.New(inner.Type()).Elem()
			c.Set(inner)
			mutate(c)
			v.Set(c)
		}
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(v.Uint() + 1)
	case reflect.Float64:
		v.SetFloat(v.Float() + 1)
	}
}

// TestJob_Clone_Deep fills every field of a job (found by reflection, so
// a field added later is covered), clones it, changes everything in the
// clone and checks that the original did not move.
func TestJob_Clone_Deep(t *testing.T) {
	var orig, want jobs.Job
	fill(reflect.ValueOf(&orig).Elem(), 0)
	fill(reflect.ValueOf(&want).Elem(), 0)
	require.Equal(t, want, orig, "fill is deterministic")
	require.NotEmpty(t, orig.Gates[0].Escalation[0].Channels, "fill reaches nested slices")

	c := orig.Clone()
	require.Equal(t, &orig, c, "a clone is equal to its original")
	mutate(reflect.ValueOf(c).Elem())
	require.NotEqual(t, want, *c, "mutate changed the clone")
	require.Equal(t, want, orig, "changing a clone never changes the original")
}

// TestJob_Clone_Shapes: nil and empty collections keep their shape (a
// snapshot encodes the same JSON as the record), and a nil job clones to
// nil.
func TestJob_Clone_Shapes(t *testing.T) {
	var nilJob *jobs.Job
	require.Nil(t, nilJob.Clone())
	empty := jobs.Job{Channels: []jobs.Channel{}, Gates: []*jobs.Gate{{}}}
	c := empty.Clone()
	require.NotNil(t, c.Channels)
	require.Nil(t, c.Annotations)
	require.Nil(t, c.Gates[0].Assignees)
	require.NotNil(t, (&jobs.Job{}).Clone().Gates, "gates is never nil in a snapshot")
}
