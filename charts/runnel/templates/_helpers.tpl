{{/*
Names. The release's objects are <fullname>-<component> (batch, stream, backfill-...).
*/}}
{{- define "runnel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "runnel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's object name; CronJob names are limited to 52 characters (the controller
appends 11 for its Jobs). */}}
{{- define "runnel.componentName" -}}
{{- $root := index . 0 }}{{- $component := index . 1 }}
{{- printf "%s-%s" (include "runnel.fullname" $root | trunc 40 | trimSuffix "-") $component | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "runnel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "runnel.selectorLabels" -}}
{{- $root := index . 0 }}{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ include "runnel.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ $component }}
{{- end }}

{{- define "runnel.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ include "runnel.chart" $root }}
{{ include "runnel.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: runnel
{{- end }}

{{- define "runnel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "runnel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "runnel.image" -}}
{{- if not .Values.image.repository }}
{{- fail "image.repository is required: the image built from the repository's Dockerfile, pushed to your registry (e.g. registry.example.com/data/runnel); a bare name such as 'runnel' would be pulled from Docker Hub" }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "runnel.configMapName" -}}
{{- if .Values.pipeline.existingConfigMap }}
{{- .Values.pipeline.existingConfigMap }}
{{- else }}
{{- printf "%s-pipeline" (include "runnel.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The ConfigMap a component mounts: its own when it has a pipelineSpec, else the shared one.
Argument: (list $ $component $componentValues). */}}
{{- define "runnel.componentConfigMapName" -}}
{{- $root := index . 0 }}{{- $component := index . 1 }}{{- $v := index . 2 }}
{{- if $v.pipelineSpec }}
{{- printf "%s-%s-pipeline" (include "runnel.fullname" $root) $component | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "runnel.configMapName" $root }}
{{- end }}
{{- end }}

{{- define "runnel.componentConfigMapKey" -}}
{{- $root := index . 0 }}{{- $v := index . 2 }}
{{- if $v.pipelineSpec }}pipeline.yaml{{ else }}{{ $root.Values.pipeline.key }}{{ end }}
{{- end }}

{{/*
The restricted Pod Security Standard, always: what the user adds under podSecurityContext
(fsGroup, supplementalGroups, ...) is merged in, but cannot weaken these fields.
*/}}
{{- define "runnel.podSecurityContext" -}}
{{- $restricted := dict "runAsNonRoot" true "runAsUser" 65532 "runAsGroup" 65532 "seccompProfile" (dict "type" "RuntimeDefault") }}
{{- toYaml (merge $restricted (deepCopy (default dict .Values.podSecurityContext))) }}
{{- end }}

{{- define "runnel.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Pod-level fields shared by every component. Argument: (list $ $component $componentValues).
*/}}
{{- define "runnel.podCommon" -}}
{{- $root := index . 0 }}{{- $v := index . 2 -}}
serviceAccountName: {{ include "runnel.serviceAccountName" $root }}
automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
securityContext:
  {{- include "runnel.podSecurityContext" $root | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with (default $root.Values.nodeSelector $v.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.tolerations $v.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $root.Values.affinity $v.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: pipeline
    configMap:
      name: {{ include "runnel.componentConfigMapName" . }}
      items:
        - key: {{ include "runnel.componentConfigMapKey" . }}
          path: pipeline.yaml
  - name: tmp
    emptyDir:
      sizeLimit: {{ $root.Values.tmp.sizeLimit }}
  - name: data
    {{- if $root.Values.data.existingClaim }}
    persistentVolumeClaim:
      claimName: {{ $root.Values.data.existingClaim }}
    {{- else }}
    emptyDir:
      sizeLimit: {{ $root.Values.data.sizeLimit }}
    {{- end }}
{{- end }}

{{/* Pod metadata: labels and annotations. Argument: (list $ $component $componentValues
[extraAnnotations]). */}}
{{- define "runnel.podMetadata" -}}
{{- $root := index . 0 }}{{- $component := index . 1 }}{{- $v := index . 2 -}}
{{- $extra := dict }}{{- if gt (len .) 3 }}{{- $extra = index . 3 }}{{- end -}}
labels:
  {{- include "runnel.labels" (list $root $component) | nindent 2 }}
  {{- with (merge (deepCopy (default dict $v.podLabels)) (deepCopy (default dict $root.Values.podLabels))) }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with (merge (deepCopy $extra) (deepCopy (default dict $v.podAnnotations)) (deepCopy (default dict $root.Values.podAnnotations))) }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Container fields shared by every component (after name, image, command, args). */}}
{{- define "runnel.containerCommon" -}}
{{- $root := index . 0 }}{{- $v := index . 2 -}}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
securityContext:
  {{- include "runnel.containerSecurityContext" $root | nindent 2 }}
{{- with (default $root.Values.resources $v.resources) }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.envFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  - name: pipeline
    mountPath: /etc/runnel
    readOnly: true
  - name: tmp
    mountPath: /tmp
  - name: data
    mountPath: /var/lib/runnel
{{- end }}

{{/* RUNNEL_METRICS_PUSH_URL for the batch runs (CronJob, backfill) when monitoring.push.url is
set: they push their metrics to that Pushgateway (docs/operations.md). */}}
{{- define "runnel.pushEnv" -}}
{{- with .Values.monitoring.push.url }}
- name: RUNNEL_METRICS_PUSH_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* The user's env, then the component's. */}}
{{- define "runnel.userEnv" -}}
{{- $root := index . 0 }}{{- $v := index . 2 -}}
{{- with $root.Values.env }}
{{ toYaml . }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* podFailurePolicy rules shared by the CronJob's and the backfill's Jobs. Exit codes are the
binaries' contract: 1 transient (retry), 2 config/usage, 3 data contract, 4 lease held. */}}
{{- define "runnel.podFailureRules.common" -}}
# Evictions, preemption, node drains: not the pipeline's fault, not counted against backoffLimit.
- action: Ignore
  onPodConditions:
    - type: DisruptionTarget
      status: "True"
# Transient failure: retry (counts towards the backoff limit).
- action: Count
  onExitCodes:
    containerName: runnel
    operator: In
    values: [1]
{{- end }}
