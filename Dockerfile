# NatsJsExporter container image.
#   docker build --build-arg SOURCE_REVISION=$(git rev-parse HEAD) -t natsjs-exporter .
#   docker run --read-only -p 7778:7778 -e NATSJS_MONITOR_URLS=http://nats-1:8222,http://nats-2:8222 natsjs-exporter
# Every setting is an environment variable (NATSJS_*, see README "Configuration"); secrets come from
# mounted files (NATSJS_NATS_PASSWORD_FILE, NATSJS_WEB_CONFIG_FILE ...) or NATSJS_NATS_PASSWORD.
# The test ContainerRuntimeTests runs this same publish output as nobody from a read-only folder.

# --- build: the SDK image, restore first so the package layer is cached ---
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props NatsJsExporter.sln ./
COPY src/NatsJsExporter/NatsJsExporter.csproj src/NatsJsExporter/
RUN dotnet restore src/NatsJsExporter/NatsJsExporter.csproj
COPY src/NatsJsExporter/ src/NatsJsExporter/
# No .git in the build context: pass the commit for --version and natsjs_exporter_build_info,
#   docker build --build-arg SOURCE_REVISION=$(git rev-parse HEAD) -t natsjs-exporter .
# (a checkout build gets it from git by itself; without either it is "unknown").
ARG SOURCE_REVISION=unknown
RUN dotnet publish src/NatsJsExporter/NatsJsExporter.csproj -c Release --no-restore -o /app -p:SourceRevisionId=${SOURCE_REVISION}

# --- runtime: chiseled ASP.NET image (no shell, no package manager, ~110 MB), non-root ---
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
WORKDIR /app
COPY --from=build /app ./
# nobody:nogroup. The exporter writes nothing to disk: run it with --read-only.
USER 65534:65534
ENV NATSJS_LISTEN=0.0.0.0:7778 \
    DOTNET_gcServer=0 \
    DOTNET_GCHeapHardLimitPercent=0x4B \
    DOTNET_EnableDiagnostics=0
EXPOSE 7778
# The image has no curl: the exporter asks its own /healthz (TLS and basic auth from the same settings).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["dotnet", "/app/natsjs-exporter.dll", "--healthcheck"]
ENTRYPOINT ["dotnet", "/app/natsjs-exporter.dll"]
