using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>
/// Sizes and durations as natscli prints them: sizes through go-humanize's IBytes (one decimal
/// below 10, then Go's %.0f, which rounds an exact half to even), durations through natscli's own
/// HumanizeDuration. Expected values are what those Go functions print for the same input.
/// </summary>
public class FormatTests
{
    [Theory]
    [InlineData(0UL, "0 B")]
    [InlineData(9UL, "9 B")]
    [InlineData(10UL, "10 B")]
    [InlineData(1023UL, "1023 B")]
    [InlineData(1024UL, "1.0 KiB")]             // 1 KiB
    [InlineData(1536UL, "1.5 KiB")]
    [InlineData(10188UL, "9.9 KiB")]            // 9.949 KiB
    [InlineData(10189UL, "10 KiB")]             // 9.950 KiB: rounds up to 10.0, printed without a decimal
    [InlineData(10752UL, "10 KiB")]             // 10.5 KiB: an exact half, to even
    [InlineData(11776UL, "12 KiB")]             // 11.5 KiB: an exact half, to even
    [InlineData(18944UL, "18 KiB")]             // 18.5 KiB, not 19
    [InlineData(1048575UL, "1024 KiB")]         // one byte short of 1 MiB
    [InlineData(1048576UL, "1.0 MiB")]          // 1 MiB
    [InlineData(27UL * 1024 * 1024 + 1000, "27 MiB")]
    [InlineData(10UL * 1024 * 1024 * 1024, "10 GiB")]
    [InlineData(ulong.MaxValue, "16 EiB")]
    public void Sizes_match_go_humanize_IBytes(ulong bytes, string expected) => Assert.Equal(expected, Format.Bytes(bytes));

    [Theory]
    [InlineData(0.0, "0s")]
    [InlineData(0.0000004, "0s")]               // 400ns rounds to 0µs
    [InlineData(0.0000005, "1\u00b5s")]         // Go's Duration.Round: halves away from zero
    [InlineData(0.000250, "250\u00b5s")]
    [InlineData(0.0009996, "1ms")]              // 999.6µs rounds to 1ms
    [InlineData(0.0015, "2ms")]
    [InlineData(0.169, "169ms")]                // not 0.17s
    [InlineData(0.9996, "1s")]                  // rounds to a whole second: Go prints 1s
    [InlineData(1.0, "1.00s")]
    [InlineData(1.125, "1.12s")]                // %.2f: an exact half, to even
    [InlineData(15.03, "15.03s")]
    [InlineData(59.9, "59.90s")]
    [InlineData(60.0, "1m0s")]
    [InlineData(185.0, "3m5s")]
    [InlineData(7805.0, "2h10m5s")]
    [InlineData(93784.0, "1d2h3m4s")]
    [InlineData(365 * 86400.0 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5, "1y2d3h4m5s")]
    [InlineData(-3.0, "0s")]
    public void Durations_match_natscli_HumanizeDuration(double seconds, string expected) => Assert.Equal(expected, Format.Duration(seconds));

    [Fact]
    public void Unknown_numbers_say_so()
    {
        Assert.Equal("unknown", Format.Count((ulong?)null));
        Assert.Equal("unknown", Format.Bytes((ulong?)null));
        Assert.Equal("7", Format.Count((ulong?)7));
    }
}
