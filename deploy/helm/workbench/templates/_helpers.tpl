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

{{/* The rules the chart refuses to break (rendered by templates/validate.yaml). */}}
{{- define "workbench.validate" -}}
{{- if eq (include "workbench.embedded" .) "true" -}}
{{- if gt (int .Values.web.replicas) 1 -}}
{{- fail "web.replicas must be 1 while metadata.backend is \"embedded\": the DuckDB file can be written by one process only (a second pod would be refused the file). Scale out with a multi-writer backend (issue #19)." -}}
{{- end -}}
{{- if .Values.web.autoscaling.enabled -}}
{{- fail "web.autoscaling.enabled needs a multi-writer metadata backend: with metadata.backend \"embedded\" the web app must stay one replica (the DuckDB file has one writer)." -}}
{{- end -}}
{{- if .Values.worker.enabled -}}
{{- fail "worker.enabled needs a multi-writer metadata backend: with metadata.backend \"embedded\" the web pod holds the DuckDB file and embeds uploads itself; a worker pod could not open it." -}}
{{- end -}}
{{- if .Values.backup.enabled -}}
{{- fail "backup.enabled (the CronJob) needs a metadata backend a second process may read: with \"embedded\" the web pod holds the DuckDB file. Stop the web pod and run `workbench backup` (see the chart README)." -}}
{{- end -}}
{{- else -}}
{{- if or (not .Values.storage.blobUrl) (not .Values.storage.vectorUrl) -}}
{{- fail "storage.blobUrl and storage.vectorUrl must be az:// URLs when several pods share the workbench (metadata.backend is not \"embedded\")." -}}
{{- end -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.host is required when ingress.enabled (the web app answers only under its own host names)." -}}
{{- end -}}
{{- if and .Values.secrets.create .Values.secrets.existingSecret -}}
{{- fail "set either secrets.existingSecret or secrets.create, not both." -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by every workbench container. */}}
{{- define "workbench.env" -}}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
# The host guard answers only known names: the public host, the Service, and the pod's own IP
# (Prometheus scrapes the pod directly; probes send Host: localhost).
- name: WORKBENCH_SERVER__ALLOWED_HOSTS
  value: {{ printf "[\"$(POD_IP)\", %q, %q]" (include "workbench.fullname" .) (printf "%s.%s.svc" (include "workbench.fullname" .) .Release.Namespace) | quote }}
{{- range $name, $key := .Values.secrets.keys }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "workbench.secretName" $ }}
      key: {{ $key }}
      optional: true
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
