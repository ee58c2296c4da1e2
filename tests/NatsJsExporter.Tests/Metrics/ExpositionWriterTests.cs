using System.Globalization;
using System.Text;
using NatsJsExporter.Metrics;

namespace NatsJsExporter.Tests.Metrics;

public class ExpositionWriterTests
{
    private static string Render(double v)
    {
        var w = new ExpositionWriter();
        w.Family("m", MetricType.Gauge, "h");
        w.Sample(v);
        var text = Encoding.UTF8.GetString(w.ToArray());
        return text[(text.LastIndexOf("\nm ", StringComparison.Ordinal) + 3)..^1];
    }

    /// <summary>The integer fast path prints exactly what double.ToString("R") does.</summary>
    [Fact]
    public void Doubles_print_as_round_trip_format()
    {
        var values = new List<double> { 0, -0.0, 1, -1, 49, 0.5, 1e-5, 1e14, 999_999_999_999_999, 1e15, 1e15 + 2, 1e16, 9.007199254740993e15,
            ulong.MaxValue, long.MinValue, 1_780_000_000.123, double.Epsilon, double.MaxValue, 123.456 };
        var rnd = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            values.Add(Math.Floor(rnd.NextDouble() * Math.Pow(10, rnd.Next(0, 18))));
            values.Add(rnd.NextDouble() * Math.Pow(10, rnd.Next(-3, 18)));
        }
        foreach (var v in values)
            Assert.Equal(v.ToString("R", CultureInfo.InvariantCulture), Render(v));
        Assert.Equal("NaN", Render(double.NaN));
        Assert.Equal("+Inf", Render(double.PositiveInfinity));
        Assert.Equal("-Inf", Render(double.NegativeInfinity));
    }

    [Fact]
    public void Label_sets_write_the_same_bytes_as_labels()
    {
        var a = new ExpositionWriter();
        a.Family("m", MetricType.Gauge, "h");
        a.Sample(2.0, new Label("x", "q\"uo\\te\nd"), new Label("y", "ü"), new Label("peer", "n1"));
        var b = new ExpositionWriter();
        b.Family("m", MetricType.Gauge, "h");
        b.Sample(new LabelSet(new Label("x", "q\"uo\\te\nd")).With(new Label("y", "ü")), 2.0, new Label("peer", "n1"));
        Assert.Equal(Encoding.UTF8.GetString(a.ToArray()), Encoding.UTF8.GetString(b.ToArray()));
        Assert.Contains("m{x=\"q\\\"uo\\\\te\\nd\",y=\"ü\",peer=\"n1\"} 2\n", Encoding.UTF8.GetString(a.ToArray()));
    }
}
