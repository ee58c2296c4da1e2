using NatsJsExporter.Commands;

namespace NatsJsExporter.Tests.Commands;

/// <summary>The report command's arguments: bad ones exit 3 (unknown) with one line saying why.</summary>
public class ReportCommandTests
{
    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await ReportCommand.RunAsync(args, new Dictionary<string, string?>(), Path.GetTempPath(), o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public async Task Help_prints_sections_exit_codes_and_the_source_flags()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("report [all|jetstream|streams|meta] [--json]", output);
        Assert.Contains("0 healthy, 1 warnings only, 2 at least one critical problem, 3", output);
        Assert.Contains("--monitor-urls", output);
    }

    [Fact]
    public async Task An_unknown_section_exits_3()
    {
        var (code, _, err) = await Run("consumers", "--monitor-urls", "http://127.0.0.1:1");
        Assert.Equal(3, code);
        Assert.Equal("natsjs-exporter report: unknown section \"consumers\"; use one of all, jetstream, streams, meta (see report --help)\n", err);
    }

    [Fact]
    public async Task Bad_source_flags_exit_3_with_the_loader_message()
    {
        var (code, _, err) = await Run("streams", "--monitor-urls", "ftp://x");
        Assert.Equal(3, code);
        Assert.StartsWith("natsjs-exporter report: invalid --monitor-urls: \"ftp://x\" is not an http:// or https:// URL", err);
    }

    [Fact]
    public async Task No_server_answering_is_critical_exit_2()
    {
        var port = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        port.Start();
        int free = ((System.Net.IPEndPoint)port.LocalEndpoint).Port;
        port.Stop();
        var (code, output, _) = await Run("--monitor-urls", $"http://127.0.0.1:{free}", "--timeout", "2s");
        Assert.Equal(2, code);
        Assert.StartsWith("CRITICAL: 1 critical; 0/1 servers answered", output);
        Assert.Contains("no server answered the last poll", output);
    }
}
