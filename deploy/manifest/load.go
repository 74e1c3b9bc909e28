package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Set is pstrace's manifests, one object of each kind.
type Set struct {
	Namespace      *corev1.Namespace
	ServiceAccount *corev1.ServiceAccount
	ConfigMap      *corev1.ConfigMap
	Service        *corev1.Service
	DaemonSet      *appsv1.DaemonSet
}

// docSeparator splits a YAML stream into documents.
var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// Load reads every .yaml file in dir. Each document is decoded strictly
// into the API type of its kind: a field the type does not have, a value
// of the wrong type or a duplicate key is an error, as the API server's
// strict field validation makes it.
func Load(dir string) (*Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no manifests in %s", dir)
	}
	s := &Set{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for i, doc := range docSeparator.Split(string(b), -1) {
			if len(bytes.TrimSpace([]byte(doc))) == 0 {
				continue
			}
			if err := s.add([]byte(doc)); err != nil {
				return nil, fmt.Errorf("%s, document %d: %w", filepath.Base(f), i+1, err)
			}
		}
	}
	return s, s.complete()
}

func (s *Set) add(doc []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	var obj any
	switch head.APIVersion + " " + head.Kind {
	case "v1 Namespace":
		s.Namespace = &corev1.Namespace{}
		obj = s.Namespace
	case "v1 ServiceAccount":
		s.ServiceAccount = &corev1.ServiceAccount{}
		obj = s.ServiceAccount
	case "v1 ConfigMap":
		s.ConfigMap = &corev1.ConfigMap{}
		obj = s.ConfigMap
	case "v1 Service":
		s.Service = &corev1.Service{}
		obj = s.Service
	case "apps/v1 DaemonSet":
		s.DaemonSet = &appsv1.DaemonSet{}
		obj = s.DaemonSet
	default:
		return fmt.Errorf("unexpected object %q %q", head.APIVersion, head.Kind)
	}
	// YAML to JSON rejecting duplicate keys, then JSON to the type as the API
	// server decodes it: field names case-sensitive, unknown ones an error.
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func (s *Set) complete() error {
	switch {
	case s.Namespace == nil:
		return fmt.Errorf("no Namespace")
	case s.ServiceAccount == nil:
		return fmt.Errorf("no ServiceAccount")
	case s.ConfigMap == nil:
		return fmt.Errorf("no ConfigMap")
	case s.Service == nil:
		return fmt.Errorf("no Service")
	case s.DaemonSet == nil:
		return fmt.Errorf("no DaemonSet")
	}
	return nil
}

// Container is the DaemonSet's pstrace container.
func (s *Set) Container() (*corev1.Container, error) {
	cs := s.DaemonSet.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		return nil, fmt.Errorf("the DaemonSet has %d containers, want 1", len(cs))
	}
	return &cs[0], nil
}
