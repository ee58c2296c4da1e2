# Build: docker build -t natsjs-exporter .
# Run:   docker run -p 7778:7778 natsjs-exporter --monitor-urls http://nats-1:8222,http://nats-2:8222
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props NatsJsExporter.sln ./
COPY src/NatsJsExporter/NatsJsExporter.csproj src/NatsJsExporter/
RUN dotnet restore src/NatsJsExporter/NatsJsExporter.csproj
COPY src/NatsJsExporter/ src/NatsJsExporter/
RUN dotnet publish src/NatsJsExporter/NatsJsExporter.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# nobody:nogroup; the exporter writes nothing to disk.
USER 65534:65534
ENV NATSJS_LISTEN=0.0.0.0:7778 \
    DOTNET_gcServer=0 \
    DOTNET_GCHeapHardLimitPercent=0x4B
EXPOSE 7778
ENTRYPOINT ["dotnet", "/app/natsjs-exporter.dll"]
