{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "flashsale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Release-wide name: the release name alone when it already contains the chart name (the usual
`helm install flashsale charts/flashsale`), else release-chart.
*/}}
{{- define "flashsale.fullname" -}}
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

{{/* Name of one component's objects: <fullname>-<component>. Call with (list $ "reservation"). */}}
{{- define "flashsale.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "flashsale.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component; stable across upgrades. Call with (list $ "component"). */}}
{{- define "flashsale.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "flashsale.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Every label of one component's objects. Call with (list $ "component"). */}}
{{- define "flashsale.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "flashsale.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: flashsale
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* repository:tag of an image section ({repository, tag, pullPolicy}); tag defaults to appVersion. */}}
{{- define "flashsale.image" -}}
{{- $img := index . 1 }}
{{- printf "%s:%s" $img.repository (default (index . 0).Chart.AppVersion $img.tag) }}
{{- end }}

{{/*
The container securityContext of every container: the restricted Pod Security level (no privilege
escalation, every capability dropped, read-only root filesystem, RuntimeDefault seccomp).
*/}}
{{- define "flashsale.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod securityContext for a user id: non-root, that uid/gid, fsGroup for the volumes. */}}
{{- define "flashsale.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsUser }}
fsGroup: {{ .runAsUser }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
A value kept across upgrades: the key of an existing Secret when the release already made it
(lookup; empty under `helm template` and --dry-run), else a new random one. Call with
(dict "root" $ "name" secretName "key" key "length" 32).
*/}}
{{- define "flashsale.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum (int .length) }}
{{- end }}
{{- end }}

{{/* Secret name and key holding the admin token. */}}
{{- define "flashsale.adminSecretName" -}}
{{- default (include "flashsale.componentName" (list . "admin")) .Values.auth.existingSecret }}
{{- end }}
{{- define "flashsale.adminSecretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}admin-token{{ end }}
{{- end }}

{{/* Secret name and key holding DATABASE_URL of an external database (the chart's, or the user's own). */}}
{{- define "flashsale.databaseSecretName" -}}
{{- default (include "flashsale.componentName" (list . "database")) .Values.postgres.external.existingSecret }}
{{- end }}
{{- define "flashsale.databaseSecretKey" -}}
{{- if .Values.postgres.external.existingSecret }}{{ .Values.postgres.external.existingSecretKey }}{{ else }}database-url{{ end }}
{{- end }}

{{/* Secret name holding the bundled Postgres password (key `password`). */}}
{{- define "flashsale.postgresSecretName" -}}
{{- default (include "flashsale.componentName" (list . "postgres")) .Values.postgres.auth.existingSecret }}
{{- end }}

{{/* Addresses the reservation pods use, bundled or external. */}}
{{- define "flashsale.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s:%d" (include "flashsale.componentName" (list . "redis")) (int .Values.redis.service.port) }}
{{- else }}
{{- required "redis.external.url is required when redis.enabled is false" .Values.redis.external.url }}
{{- end }}
{{- end }}

{{- define "flashsale.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s:%d" (include "flashsale.componentName" (list . "nats")) (int .Values.nats.service.port) }}
{{- else }}
{{- required "nats.external.urls is required when nats.enabled is false" (join "," .Values.nats.external.urls) }}
{{- end }}
{{- end }}

{{/* Base URL of the chart's reservation Service (the operator's schedule, the dashboard's API). */}}
{{- define "flashsale.reservationUrl" -}}
{{- printf "http://%s:%d" (include "flashsale.componentName" (list . "reservation")) (int .Values.reservation.service.port) }}
{{- end }}

{{/*
The namespace the operator watches: operator.watchNamespace, "" = the release's own; "*" = every
namespace (then it needs a ClusterRole).
*/}}
{{- define "flashsale.operatorWatchNamespace" -}}
{{- default .Release.Namespace .Values.operator.watchNamespace }}
{{- end }}

{{/*
The operator's instance name (namespace.name, a label value): the value of the flashsale.dev/operator
label that hands a ReservationAutoscaler to this operator and no other.
*/}}
{{- define "flashsale.operatorInstance" -}}
{{- printf "%s.%s" .Release.Namespace (include "flashsale.componentName" (list . "operator")) | trunc 63 | trimSuffix "-" | trimSuffix "." }}
{{- end }}

{{- define "flashsale.prometheusUrl" -}}
{{- if .Values.prometheus.enabled }}
{{- printf "http://%s:%d" (include "flashsale.componentName" (list . "prometheus")) (int .Values.prometheus.service.port) }}
{{- else }}
{{- .Values.prometheus.external.url }}
{{- end }}
{{- end }}

{{/* The Prometheus the dashboard queries: its own value, else the chart's. */}}
{{- define "flashsale.dashboardPrometheusUrl" -}}
{{- default (include "flashsale.prometheusUrl" .) .Values.dashboard.prometheus.url }}
{{- end }}

{{/* JetStream replicas of the reservation stream: the cluster's when the bundled NATS is clustered. */}}
{{- define "flashsale.streamReplicas" -}}
{{- if and .Values.nats.enabled .Values.nats.cluster.enabled }}{{ .Values.nats.cluster.streamReplicas }}{{ else }}1{{ end }}
{{- end }}

{{/* DATABASE_URL (and the password it is built from) of the reservation pods and the migration Job. */}}
{{- define "flashsale.databaseEnv" -}}
{{- if .Values.postgres.enabled }}
# The password stays in its Secret; Kubernetes expands $(DB_PASSWORD) into the URL (generated
# passwords are alphanumeric; a password of your own must be URL-safe).
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "flashsale.postgresSecretName" . }}
      key: password
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DB_PASSWORD)@%s:%d/%s" .Values.postgres.user (include "flashsale.componentName" (list . "postgres")) (int .Values.postgres.service.port) .Values.postgres.database | quote }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "flashsale.databaseSecretName" . }}
      key: {{ include "flashsale.databaseSecretKey" . }}
{{- end }}
{{- end }}

{{/* The env every reservation pod needs: the dependencies and the secrets. */}}
{{- define "flashsale.reservationEnv" -}}
{{ include "flashsale.databaseEnv" . | trim }}
- name: REDIS_URL
  value: {{ include "flashsale.redisUrl" . | quote }}
- name: NATS_URL
  value: {{ include "flashsale.natsUrl" . | quote }}
- name: STREAM_REPLICAS
  value: {{ include "flashsale.streamReplicas" . | quote }}
- name: ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "flashsale.adminSecretName" . }}
      key: {{ include "flashsale.adminSecretKey" . }}
- name: LOG_LEVEL
  value: {{ .Values.reservation.logLevel | quote }}
{{- end }}

{{/* Checks the values cannot express in the schema; fails the install with a clear message. */}}
{{- define "flashsale.validate" -}}
{{- $r := .Values.reservation }}
{{- if le (int $r.terminationGracePeriodSeconds) (add (int $r.shutdownTimeoutSeconds) (int $r.drainSeconds)) }}
{{- fail (printf "reservation.terminationGracePeriodSeconds (%d) must be longer than reservation.drainSeconds + reservation.shutdownTimeoutSeconds (%d)" (int $r.terminationGracePeriodSeconds) (add (int $r.shutdownTimeoutSeconds) (int $r.drainSeconds))) }}
{{- end }}
{{- if and (not .Values.postgres.enabled) (not .Values.postgres.external.url) (not .Values.postgres.external.existingSecret) }}
{{- fail "postgres.enabled is false: set postgres.external.url or postgres.external.existingSecret" }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.redis.external.url) }}
{{- fail "redis.enabled is false: set redis.external.url" }}
{{- end }}
{{- if and (not .Values.nats.enabled) (not .Values.nats.external.urls) }}
{{- fail "nats.enabled is false: set nats.external.urls" }}
{{- end }}
{{- $a := .Values.operator.autoscaler }}
{{- if and .Values.operator.enabled $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "operator.autoscaler.minReplicas (%d) cannot exceed operator.autoscaler.maxReplicas (%d)" (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- if and .Values.operator.enabled $a.enabled (not (include "flashsale.prometheusUrl" .)) }}
{{- fail "operator.autoscaler needs a Prometheus: set prometheus.enabled or prometheus.external.url" }}
{{- end }}
{{- if and .Values.operator.enabled (ge (int .Values.operator.leaseRenewDeadlineMs) (int .Values.operator.leaseDurationMs)) }}
{{- fail "operator.leaseRenewDeadlineMs must be less than operator.leaseDurationMs" }}
{{- end }}
{{- if and .Values.dashboard.enabled (not (include "flashsale.dashboardPrometheusUrl" .)) }}
{{- fail "dashboard needs a Prometheus: set prometheus.enabled, prometheus.external.url or dashboard.prometheus.url" }}
{{- end }}
{{- if and .Values.nats.cluster.enabled (gt (int .Values.nats.cluster.streamReplicas) (int .Values.nats.cluster.replicas)) }}
{{- fail "nats.cluster.streamReplicas cannot exceed nats.cluster.replicas" }}
{{- end }}
{{- end }}

{{/* resources from a {requests: {cpu, memory}, limits: {cpu, memory}} section; empty values left out. */}}
{{- define "flashsale.resources" -}}
{{- range $kind := list "requests" "limits" }}
{{- $section := index $ $kind | default dict }}
{{- $set := dict }}
{{- range $k, $v := $section }}{{ if $v }}{{ $_ := set $set $k $v }}{{ end }}{{ end }}
{{- if $set }}
{{ $kind }}:
{{- range $k, $v := $set }}
  {{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* imagePullPolicy line and image of a component. Call with (list $ .Values.x.image). */}}
{{- define "flashsale.imageFields" -}}
image: {{ include "flashsale.image" . | quote }}
imagePullPolicy: {{ (index . 1).pullPolicy }}
{{- end }}

{{/* A volumeClaimTemplate from a persistence section. Call with (list $ persistence "data" "component"). */}}
{{- define "flashsale.volumeClaimTemplate" -}}
{{- $root := index . 0 }}{{ $p := index . 1 -}}
- metadata:
    name: {{ index . 2 }}
    labels:
      {{- include "flashsale.selectorLabels" (list $root (index . 3)) | nindent 6 }}
  spec:
    accessModes: [ReadWriteOnce]
    {{- with $p.storageClass }}
    storageClassName: {{ . | quote }}
    {{- end }}
    resources:
      requests:
        storage: {{ $p.size | quote }}
{{- end }}
