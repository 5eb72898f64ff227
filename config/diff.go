package config

import (
	"reflect"
	"slices"
	"strings"
)

// LiveKeys are the keys (and, for a section, every key under it) that a
// running `tickstream run` applies when config.yaml changes. Every other
// key, including any section added later, needs a restart: the Kafka
// clients, the lake's store, the feeds' schedules and the model registry are
// built once at start.
var LiveKeys = []string{
	"symbols",
	"synthetic_symbols",
	"clean",
	"moving_average",
	"anomaly",
	"lake.flush_interval",
	"models.cadence",
}

// IsLive reports whether key (dotted, as in Diff's lists) is in LiveKeys or
// under one of them.
func IsLive(key string) bool {
	for _, k := range LiveKeys {
		if key == k || strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// Diff lists the keys whose values differ between old and new, dotted as in
// the loader's messages (anomaly.spike_factor, anomaly.overrides.AAPL.cooldown),
// in file order, split into those applied live and those that need a
// restart. A list is one key (symbols, models.files), compared whole; a map
// entry present on one side only is its own key (anomaly.overrides.AAPL).
// An empty list or map equals a missing one.
func Diff(old, new *Config) (live, restart []string) {
	var keys []string
	diffValue("", reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem(), &keys)
	for _, k := range keys {
		if IsLive(k) {
			live = append(live, k)
		} else {
			restart = append(restart, k)
		}
	}
	return live, restart
}

func diffValue(key string, a, b reflect.Value, out *[]string) {
	switch a.Kind() {
	case reflect.Struct:
		fields, names := fieldsOf(a.Type())
		for _, n := range names {
			idx := fields[n]
			diffValue(join(key, n), a.FieldByIndex(idx), b.FieldByIndex(idx), out)
		}
	case reflect.Map:
		ks := make([]string, 0, a.Len()+b.Len())
		for _, m := range []reflect.Value{a, b} {
			for _, k := range m.MapKeys() {
				ks = append(ks, k.String())
			}
		}
		slices.Sort(ks)
		for _, k := range slices.Compact(ks) {
			av, bv := a.MapIndex(reflect.ValueOf(k)), b.MapIndex(reflect.ValueOf(k))
			if !av.IsValid() || !bv.IsValid() {
				*out = append(*out, join(key, k))
				continue
			}
			diffValue(join(key, k), av, bv, out)
		}
	case reflect.Pointer:
		switch {
		case a.IsNil() && b.IsNil():
		case a.IsNil() != b.IsNil():
			*out = append(*out, key)
		default:
			diffValue(key, a.Elem(), b.Elem(), out)
		}
	case reflect.Slice:
		if (a.Len() != 0 || b.Len() != 0) && !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, key)
		}
	default:
		if !a.Equal(b) {
			*out = append(*out, key)
		}
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// Clone returns a deep copy of c, for keeping the config as loaded while the
// running one is adjusted (the embedded broker fills in kafka.brokers).
func (c *Config) Clone() *Config {
	v := reflect.New(reflect.TypeFor[Config]()).Elem()
	deepCopy(v, reflect.ValueOf(c).Elem())
	return v.Addr().Interface().(*Config)
}

func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(src.Type().Elem()).Elem()
			deepCopy(v, it.Value())
			dst.SetMapIndex(it.Key(), v)
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(src.Type().Elem()))
		deepCopy(dst.Elem(), src.Elem())
	default:
		dst.Set(src)
	}
}
