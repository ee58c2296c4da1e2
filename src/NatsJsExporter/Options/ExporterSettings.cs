namespace NatsJsExporter.Options;

/// <summary>
/// The "NatsJsExporter" configuration section as given (file, NATSJS_* environment, flags; bound by
/// Microsoft.Extensions.Configuration), before validation turns it into <see cref="ExporterOptions"/>.
/// Values stay text so every error can quote what was given; one property per <see cref="OptionCatalog"/> entry.
/// </summary>
public sealed class ExporterSettings
{
    public string? MonitorUrls { get; set; }
    public string? NatsUrl { get; set; }
    public string? NatsContext { get; set; }
    public string? NatsUser { get; set; }
    public string? NatsPasswordFile { get; set; }
    public string? NatsTokenFile { get; set; }
    public string? NatsCreds { get; set; }
    public string? NatsNkey { get; set; }
    public string? NatsTlsCa { get; set; }
    public string? NatsTlsCert { get; set; }
    public string? NatsTlsKey { get; set; }
    public string? ExpectedServers { get; set; }
    public string? ServerDropAfter { get; set; }
    public string? FilterCluster { get; set; }
    public string? FilterServerName { get; set; }
    public string? FilterTags { get; set; }
    public string? FilterDomain { get; set; }
    public string? Listen { get; set; }
    public string? Interval { get; set; }
    public string? Timeout { get; set; }
    public string? AccountPageSize { get; set; }
    public string? MaxResponseSize { get; set; }
    public string? IncludeAccounts { get; set; }
    public string? ExcludeAccounts { get; set; }
    public string? IncludeStreams { get; set; }
    public string? ExcludeStreams { get; set; }
    public string? IncludeConsumers { get; set; }
    public string? ExcludeConsumers { get; set; }
    public string? Consumers { get; set; }
    public string? EphemeralConsumers { get; set; }
    public string? RaftzGroups { get; set; }
    public string? ReplicaComparison { get; set; }
    public string? LogLevel { get; set; }
    public string? LogFormat { get; set; }
    public string? WebConfigFile { get; set; }
    public string? MonitorTlsCa { get; set; }
    public string? MonitorTlsInsecure { get; set; }
}
