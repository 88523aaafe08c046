{{/*
The streaming worker (`runnel-stream run`), shared by the stream Deployment (deployment.yaml)
and the CDC stream Deployment (cdc-stream-deployment.yaml): the container with its port and
probes, the drain-timeout check, the metrics Service and the ServiceMonitor. Argument of each:
(list $ $component $componentValues), where the values carry port, drainTimeoutSeconds,
terminationGracePeriodSeconds, args, probes, service and serviceMonitor; the drain check takes
the values' path for its message instead of the component name.
*/}}

{{/* The grace period must outlast the drain timeout. Argument: (list $ $valuesPath $componentValues). */}}
{{- define "runnel.stream.drainCheck" -}}
{{- $path := index . 1 }}{{- $v := index . 2 -}}
{{- if le (int $v.terminationGracePeriodSeconds) (int $v.drainTimeoutSeconds) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must exceed %s.drainTimeoutSeconds (%d): the kubelet kills the pod when the grace period ends, before runnel-stream has committed its in-flight batch (leave 10 s or more of headroom)" $path (int $v.terminationGracePeriodSeconds) $path (int $v.drainTimeoutSeconds)) }}
{{- end }}
{{- end }}

{{/* The `runnel` container of a streaming worker (a list item). */}}
{{- define "runnel.stream.container" -}}
{{- $root := index . 0 }}{{- $component := index . 1 }}{{- $v := index . 2 -}}
- name: runnel
  image: {{ include "runnel.image" $root | quote }}
  command: ["runnel-stream"]
  args:
    - run
    - /etc/runnel/pipeline.yaml
    - --http-port
    - {{ $v.port | quote }}
    - --drain-timeout
    - {{ printf "%ds" (int $v.drainTimeoutSeconds) | quote }}
    {{- with $v.args }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: http
      containerPort: {{ $v.port }}
      protocol: TCP
  env:
    # The pod name, unique per replica and stable for the pod's life: a consumer group's
    # consumer name (the spec refers to it as ${HOSTNAME}).
    - name: HOSTNAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    {{- include "runnel.userEnv" (list $root $component $v) | nindent 4 }}
  startupProbe:
    httpGet:
      path: /livez
      port: http
    periodSeconds: {{ $v.probes.startup.periodSeconds }}
    failureThreshold: {{ $v.probes.startup.failureThreshold }}
    timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
  livenessProbe:
    httpGet:
      path: /livez
      port: http
    periodSeconds: {{ $v.probes.liveness.periodSeconds }}
    failureThreshold: {{ $v.probes.liveness.failureThreshold }}
    timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: http
    periodSeconds: {{ $v.probes.readiness.periodSeconds }}
    failureThreshold: {{ $v.probes.readiness.failureThreshold }}
    timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
  {{- include "runnel.containerCommon" (list $root $component $v) | nindent 2 }}
{{- end }}

{{/* The metrics Service (/livez, /readyz, /metrics) of a streaming worker. */}}
{{- define "runnel.stream.service" -}}
{{- $root := index . 0 }}{{- $component := index . 1 }}{{- $v := index . 2 -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "runnel.componentName" (list $root $component) }}-metrics
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "runnel.labels" (list $root $component) | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "runnel.selectorLabels" (list $root $component) | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
{{- end }}

{{/* The Prometheus Operator ServiceMonitor on that Service. */}}
{{- define "runnel.stream.serviceMonitor" -}}
{{- $root := index . 0 }}{{- $component := index . 1 }}{{- $v := index . 2 -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "runnel.componentName" (list $root $component) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "runnel.labels" (list $root $component) | nindent 4 }}
    {{- with $v.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "runnel.selectorLabels" (list $root $component) | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ $root.Release.Namespace }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $v.serviceMonitor.interval }}
      scrapeTimeout: {{ $v.serviceMonitor.scrapeTimeout }}
{{- end }}
