{{- define "workbench.name" -}}{{ .Chart.Name }}{{- end -}}

{{- define "workbench.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "workbench.labels" -}}
app.kubernetes.io/name: {{ include "workbench.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "workbench.selector" -}}
app.kubernetes.io/name: {{ include "workbench.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "workbench.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{ with .Values.image.digest }}@{{ . }}{{ end }}
{{- end -}}

{{/* checkov findings this chart accepts, each with its reason, on every workload that runs the
     image (the chart README lists them under "Security scan"). Checkov reads the reason after "=",
     so a reason holds no "=". Pass (dict "root" . "worker" true) for the worker Deployment. */}}
{{- define "workbench.checkovSkips" -}}
{{- if not .root.Values.image.digest }}
checkov.io/skip1: "CKV_K8S_43=no image.digest set: the release tag names the image; set image.digest to pin it by digest (the check then passes)"
checkov.io/skip2: "CKV_K8S_15=IfNotPresent with a release tag that is never pushed twice; set image.digest to pin it (the check then passes)"
{{- end }}
checkov.io/skip3: "CKV_K8S_35=the workbench reads its settings (Clerk, OpenAI, storage keys) from WORKBENCH_* environment variables only"
{{- if .worker }}
checkov.io/skip4: "CKV_K8S_9=the worker serves no traffic, so there is nothing to be ready for; its liveness probe restarts a stuck worker"
{{- end }}
{{- end -}}

{{- define "workbench.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "workbench.fullname" .)) -}}
{{- end -}}

{{- define "workbench.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "workbench.fullname" .) -}}
{{- end -}}

{{- define "workbench.embedded" -}}{{ eq .Values.metadata.backend "embedded" }}{{- end -}}

{{/* The app's name of the chart's metadata backend (WORKBENCH_STORAGE__METADATA_BACKEND): the chart
     says "embedded" for the DuckDB file, the app says "duckdb" (and refuses anything else). */}}
{{- define "workbench.metadataBackend" -}}
{{- if eq (include "workbench.embedded" .) "true" }}duckdb{{ else }}postgres{{ end -}}
{{- end -}}

{{/* The environment variable holding the PostgreSQL connection string, and its key in the Secret. */}}
{{- define "workbench.dsnKey" -}}{{ .Values.secrets.keys.metadataDsn | default "WORKBENCH_STORAGE__METADATA_DSN" }}{{- end -}}

{{/* The rules the chart refuses to break (rendered by templates/validate.yaml). */}}
{{- define "workbench.validate" -}}
{{- if eq (include "workbench.embedded" .) "true" -}}
{{- if gt (int .Values.web.replicas) 1 -}}
{{- fail "web.replicas must be 1 while metadata.backend is \"embedded\": the DuckDB file can be written by one process only (a second pod would be refused the file). Scale out with metadata.backend \"postgres\" (see deploy/README.md)." -}}
{{- end -}}
{{- if .Values.web.autoscaling.enabled -}}
{{- fail "web.autoscaling.enabled needs a multi-writer metadata backend: with metadata.backend \"embedded\" the web app must stay one replica (the DuckDB file has one writer). Use metadata.backend \"postgres\"." -}}
{{- end -}}
{{- if .Values.worker.enabled -}}
{{- fail "worker.enabled needs a multi-writer metadata backend: with metadata.backend \"embedded\" the web pod holds the DuckDB file and embeds uploads itself; a worker pod could not open it. Use metadata.backend \"postgres\"." -}}
{{- end -}}
{{- if .Values.backup.enabled -}}
{{- fail "backup.enabled: there is no backup CronJob with metadata.backend \"embedded\": the web pod holds the DuckDB file, so `workbench backup` runs while the web pod is stopped (deploy/README.md, \"Back up and restore\")." -}}
{{- end -}}
{{- else -}}
{{- if or (not .Values.storage.blobUrl) (not .Values.storage.vectorUrl) -}}
{{- fail "storage.blobUrl and storage.vectorUrl must be az:// URLs when several pods share the workbench (metadata.backend is not \"embedded\")." -}}
{{- end -}}
{{- if .Values.backup.enabled -}}
{{- fail "backup.enabled: `workbench backup` refuses a workbench whose metadata lives in PostgreSQL, so the chart has no backup CronJob for metadata.backend \"postgres\". Back up the metadata with the server's own backups (Azure Database for PostgreSQL keeps point-in-time backups) or pg_dump, and the pictures and vectors with azcopy or the storage account's point-in-time restore (deploy/README.md, \"Back up and restore\"). Set backup.enabled to false." -}}
{{- end -}}
{{- include "workbench.validateDsn" . -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.host is required when ingress.enabled (the web app answers only under its own host names)." -}}
{{- end -}}
{{- if and .Values.secrets.create .Values.secrets.existingSecret -}}
{{- fail "set either secrets.existingSecret or secrets.create, not both." -}}
{{- end -}}
{{- range $name, $value := .Values.secrets.values -}}
{{- if not (or (hasKey $.Values.secrets.keys $name) (has $name (values $.Values.secrets.keys))) -}}
{{- fail (printf "secrets.values.%s is not a key this chart reads; use one of: %s (see secrets.keys)." $name (keys $.Values.secrets.keys | sortAlpha | join ", ")) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* With postgres every pod needs the connection string: refuse what is known to lack it. With
     secrets.create the values are checked here; with secrets.existingSecret the Secret is looked up
     when Helm talks to a cluster (helm install/upgrade; `helm template` cannot see it, and then the
     pods wait with CreateContainerConfigError naming the missing key, since the key is not optional). */}}
{{- define "workbench.validateDsn" -}}
{{- $key := include "workbench.dsnKey" . -}}
{{- $missing := printf "metadata.backend \"postgres\" needs the PostgreSQL connection string in the Secret under the key %s, e.g. \"host=<server>.postgres.database.azure.com port=5432 dbname=workbench user=workbench password=... sslmode=require\"" $key -}}
{{- if .Values.secrets.create -}}
{{- if not (or (index .Values.secrets.values "metadataDsn") (index .Values.secrets.values $key)) -}}
{{- fail (printf "%s: set secrets.values.metadataDsn." $missing) -}}
{{- end -}}
{{- else if not .Values.secrets.existingSecret -}}
{{- fail (printf "%s: set secrets.existingSecret to a Secret holding it (or secrets.create with secrets.values.metadataDsn for a trial)." $missing) -}}
{{- else -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace .Values.secrets.existingSecret -}}
{{- if and $secret (not (hasKey (default (dict) $secret.data) $key)) -}}
{{- fail (printf "%s: the Secret %s in namespace %s has no key %s." $missing .Values.secrets.existingSecret .Release.Namespace $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The workbench settings every container shares, as KEY: "value" lines: the ConfigMap's data,
     and given inline to the migrate hook Job (which runs before the ConfigMap exists). Every name
     is a setting the app reads (README "Configuration"; tests/test_helm_chart.py checks it). */}}
{{- define "workbench.settings" -}}
WORKBENCH_HOME: "/data"
WORKBENCH_SERVER__HOST: "0.0.0.0"
WORKBENCH_SERVER__PORT: {{ .Values.web.port | quote }}
WORKBENCH_AUTH__MODE: "clerk"
WORKBENCH_AUTH__CLERK_ISSUER: {{ .Values.clerk.issuer | quote }}
WORKBENCH_AUTH__CLERK_AUTHORIZED_PARTIES: {{ .Values.clerk.authorizedParties | toJson | quote }}
WORKBENCH_AUTH__CLERK_SIGN_IN_URL: {{ .Values.clerk.signInUrl | quote }}
{{- with .Values.clerk.publishableKey }}
WORKBENCH_AUTH__CLERK_PUBLISHABLE_KEY: {{ . | quote }}
{{- end }}
{{- with .Values.publicUrl }}
WORKBENCH_SERVER__PUBLIC_URL: {{ . | quote }}
{{- end }}
WORKBENCH_STORAGE__METADATA_BACKEND: {{ include "workbench.metadataBackend" . | quote }}
{{- if ne (include "workbench.embedded" .) "true" }}
# Shared PostgreSQL: the pre-install/pre-upgrade hook Job runs `workbench migrate` once per release;
# a pod that finds an older schema refuses to start instead of migrating behind the others' backs.
WORKBENCH_STORAGE__MIGRATE_AT_START: "false"
{{- end }}
WORKBENCH_STORAGE__VECTOR_READ_CONSISTENCY_SECONDS: {{ .Values.storage.vectorReadConsistencySeconds | toString | quote }}
{{- with .Values.storage.blobUrl }}
WORKBENCH_STORAGE__BLOB_URL: {{ . | quote }}
{{- end }}
{{- with .Values.storage.vectorUrl }}
WORKBENCH_STORAGE__VECTOR_URL: {{ . | quote }}
{{- end }}
{{- with .Values.azure.accountName }}
AZURE_STORAGE_ACCOUNT_NAME: {{ . | quote }}
{{- end }}
WORKBENCH_AI__TEXT_PROVIDER: {{ .Values.ai.textProvider | quote }}
WORKBENCH_AI__IMAGE_PROVIDER: {{ .Values.ai.imageProvider | quote }}
{{- with .Values.ai.baseUrl }}
WORKBENCH_AI__BASE_URL: {{ . | quote }}
{{- end }}
WORKBENCH_EMBEDDER__NAME: {{ .Values.embedder.name | quote }}
WORKBENCH_EMBEDDER__CLIP_MODEL: {{ .Values.embedder.clipModel | quote }}
{{- with .Values.embedder.clipCheckpoint }}
WORKBENCH_EMBEDDER__CLIP_CHECKPOINT: {{ . | quote }}
{{- end }}
WORKBENCH_LIBRARY__LOAD_SAMPLES: "false"
WORKBENCH_LIBRARY__JOB_LEASE_SECONDS: {{ .Values.worker.jobLeaseSeconds | toString | quote }}
WORKBENCH_LOG_FORMAT: {{ .Values.log.format | quote }}
WORKBENCH_LOG_LEVEL: {{ .Values.log.level | quote }}
# Caches of libraries go to the writable /tmp; the root filesystem is read-only.
XDG_CACHE_HOME: "/tmp/cache"
MPLCONFIGDIR: "/tmp/matplotlib"
{{- end -}}

{{/* Environment shared by every workbench container. */}}
{{- define "workbench.env" -}}
{{- $dsnKey := include "workbench.dsnKey" . -}}
{{- $shared := ne (include "workbench.embedded" .) "true" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
# The host guard answers only known names: the public host, the Service, and the pod's own IP
# (Prometheus scrapes the pod directly; probes send Host: localhost).
- name: WORKBENCH_SERVER__ALLOWED_HOSTS
  value: {{ printf "[\"$(POD_IP)\", %q, %q]" (include "workbench.fullname" .) (printf "%s.%s.svc" (include "workbench.fullname" .) .Release.Namespace) | quote }}
{{- range $name, $key := .Values.secrets.keys }}
{{- /* The connection string only where it is used; there it is required, so a pod without it
       waits with an event naming the key instead of starting on nothing. */}}
{{- if or (ne $key $dsnKey) $shared }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "workbench.secretName" $ }}
      key: {{ $key }}
      optional: {{ not (eq $key $dsnKey) }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "workbench.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "workbench.volumes" -}}
- name: data
{{- if eq (include "workbench.embedded" .) "true" }}
  persistentVolumeClaim:
    claimName: {{ .Values.metadata.persistence.existingClaim | default (printf "%s-data" (include "workbench.fullname" .)) }}
{{- else }}
  emptyDir:
    sizeLimit: 1Gi
{{- end }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.web.tmpSize }}
{{- end -}}

{{- define "workbench.podSpecCommon" -}}
serviceAccountName: {{ include "workbench.serviceAccountName" . }}
{{ include "workbench.podSpecRest" . }}
{{- end -}}

{{- define "workbench.podSpecRest" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "workbench.podLabels" -}}
{{- if eq .Values.azure.auth "workloadIdentity" }}
azure.workload.identity/use: "true"
{{- end }}
{{- end -}}

{{/* NetworkPolicy egress rules: cluster DNS, and the PostgreSQL server (postgres only). */}}
{{- define "workbench.egressDns" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end -}}

{{- define "workbench.egressPostgres" -}}
# PostgreSQL (the metadata): its private address range, or egressCidr when none is given. Port 5432
# itself, never a transaction-pooling PgBouncer: board events LISTEN and migrations hold a session lock.
- to:
    - ipBlock:
        cidr: {{ .Values.networkPolicy.postgresCidr | default .Values.networkPolicy.egressCidr }}
  ports:
    - {port: 5432, protocol: TCP}
{{- end -}}
