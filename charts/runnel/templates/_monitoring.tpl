{{/*
Monitoring helpers: which pipelines the dashboard's alerts are about, and the batch schedule's
interval. Pipeline names come from monitoring.pipelines.* or else from the `pipeline:` line of
the spec each component runs (an existingConfigMap cannot be read: name them then).
*/}}

{{/* `pipeline:` of a spec text, or "" when it does not parse. */}}
{{- define "runnel.monitoring.pipelineOf" -}}
{{- $doc := fromYaml (default "" .) -}}
{{- if and $doc (not (hasKey $doc "Error")) }}{{ $doc.pipeline | default "" }}{{ end -}}
{{- end }}

{{/* The spec text a component runs, or "" when it is in an existing ConfigMap. Argument: (list $ $componentValues). */}}
{{- define "runnel.monitoring.specOf" -}}
{{- $root := index . 0 }}{{- $v := index . 1 -}}
{{- if $v.pipelineSpec }}{{ $v.pipelineSpec }}{{ else if not $root.Values.pipeline.existingConfigMap }}{{ $root.Values.pipeline.spec }}{{ end -}}
{{- end }}

{{/* The batch pipeline's name (CronJob), "" without a CronJob. */}}
{{- define "runnel.monitoring.batchPipeline" -}}
{{- if .Values.batch.enabled -}}
{{- $name := .Values.monitoring.pipelines.batch | default (include "runnel.monitoring.pipelineOf" (include "runnel.monitoring.specOf" (list . .Values.batch))) -}}
{{- required "monitoring.pipelines.batch: the batch spec's pipeline name could not be read (an existingConfigMap?); set it" $name -}}
{{- end -}}
{{- end }}

{{/* The backfill pipeline's name, "" without a backfill. */}}
{{- define "runnel.monitoring.backfillPipeline" -}}
{{- if .Values.backfill.enabled -}}
{{- $name := .Values.monitoring.pipelines.backfill | default (include "runnel.monitoring.pipelineOf" (include "runnel.monitoring.specOf" (list . .Values.backfill))) -}}
{{- required "monitoring.pipelines.backfill: the backfill spec's pipeline name could not be read (an existingConfigMap?); set it" $name -}}
{{- end -}}
{{- end }}

{{/* The stream pipeline's name, "" without a Deployment. */}}
{{- define "runnel.monitoring.streamPipeline" -}}
{{- if .Values.stream.enabled -}}
{{- $name := .Values.monitoring.pipelines.stream | default (include "runnel.monitoring.pipelineOf" (include "runnel.monitoring.specOf" (list . .Values.stream))) -}}
{{- required "monitoring.pipelines.stream: the stream spec's pipeline name could not be read (an existingConfigMap?); set it" $name -}}
{{- end -}}
{{- end }}

{{/* The CDC pipeline's name (stream and snapshot run one spec), "" without cdc. */}}
{{- define "runnel.monitoring.cdcPipeline" -}}
{{- if .Values.cdc.enabled -}}
{{- $name := .Values.monitoring.pipelines.cdc | default (include "runnel.monitoring.pipelineOf" (include "runnel.monitoring.specOf" (list . dict))) -}}
{{- required "monitoring.pipelines.cdc: the CDC spec's pipeline name could not be read (an existingConfigMap?); set it" $name -}}
{{- end -}}
{{- end }}

{{/* A PromQL regex matching any of the names in the list (empty entries dropped). */}}
{{- define "runnel.monitoring.regex" -}}
{{- $names := list -}}
{{- range . }}{{ if . }}{{ $names = append $names (regexQuoteMeta . | replace "\\" "\\\\") }}{{ end }}{{ end -}}
{{- $names | uniq | join "|" -}}
{{- end }}

{{/* A spec duration (250ms, 20s, 5m, 1h, or seconds) in whole seconds, at least 1. */}}
{{- define "runnel.monitoring.durationSeconds" -}}
{{- $t := toString . | trim -}}
{{- $n := 0.0 -}}
{{- if hasSuffix "ms" $t }}{{ $n = divf (trimSuffix "ms" $t | float64) 1000 }}
{{- else if hasSuffix "s" $t }}{{ $n = trimSuffix "s" $t | float64 }}
{{- else if hasSuffix "m" $t }}{{ $n = mulf (trimSuffix "m" $t | float64) 60 }}
{{- else if hasSuffix "h" $t }}{{ $n = mulf (trimSuffix "h" $t | float64) 3600 }}
{{- else }}{{ $n = float64 $t }}{{ end -}}
{{- max 1 (ceil $n | int) -}}
{{- end }}

{{/* The stream's stall timeout in seconds: monitoring.prometheusRule.stallTimeoutSeconds, else
the stream spec's stream.stall_timeout, else its default, 60. */}}
{{- define "runnel.monitoring.stallSeconds" -}}
{{- if .Values.monitoring.prometheusRule.stallTimeoutSeconds }}{{ .Values.monitoring.prometheusRule.stallTimeoutSeconds }}
{{- else -}}
{{- $doc := fromYaml (include "runnel.monitoring.specOf" (list . .Values.stream)) -}}
{{- $t := "60s" -}}
{{- if and $doc (not (hasKey $doc "Error")) $doc.stream }}{{ $t = $doc.stream.stall_timeout | default "60s" }}{{ end -}}
{{- include "runnel.monitoring.durationSeconds" $t -}}
{{- end -}}
{{- end }}

{{/* The longest gap between two runs of batch.schedule, in seconds, for common cron shapes
(every N minutes, hourly, every N hours, daily, weekly, monthly); irregular schedules round up
(a weekday-only schedule counts as weekly). monitoring.prometheusRule.batchIntervalSeconds wins. */}}
{{- define "runnel.monitoring.scheduleSeconds" -}}
{{- if .Values.monitoring.prometheusRule.batchIntervalSeconds }}{{ .Values.monitoring.prometheusRule.batchIntervalSeconds }}
{{- else -}}
{{- $s := trim .Values.batch.schedule -}}
{{- $macros := dict "@hourly" 3600 "@daily" 86400 "@midnight" 86400 "@weekly" 604800 "@monthly" 2678400 "@yearly" 31622400 "@annually" 31622400 -}}
{{- if hasKey $macros $s }}{{ get $macros $s }}
{{- else -}}
{{- $f := regexSplit "\\s+" $s -1 -}}
{{- $m := index $f 0 }}{{- $h := index $f 1 }}{{- $dom := index $f 2 }}{{- $mon := index $f 3 }}{{- $dow := index $f 4 -}}
{{- if ne $mon "*" }}31622400
{{- else if ne $dom "*" }}2678400
{{- else if ne $dow "*" }}604800
{{- else if hasPrefix "*/" $h }}{{ mul 3600 (trimPrefix "*/" $h | atoi) }}
{{- else if ne $h "*" }}86400
{{- else if hasPrefix "*/" $m }}{{ mul 60 (trimPrefix "*/" $m | atoi) }}
{{- else if eq $m "*" }}60
{{- else }}3600
{{- end -}}
{{- end -}}
{{- end -}}
{{- end }}
