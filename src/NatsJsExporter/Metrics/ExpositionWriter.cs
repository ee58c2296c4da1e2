using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace NatsJsExporter.Metrics;

public readonly record struct Label(string Name, string Value);

public enum MetricType { Gauge, Counter }

/// <summary>
/// Writes the Prometheus text exposition format (0.0.4) as UTF-8 straight into a buffer.
/// A family's HELP/TYPE header is written only when its first sample is, so families
/// without samples vanish instead of leaving empty headers.
/// </summary>
public sealed class ExpositionWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;
    private string? _pendingName;
    private string? _pendingHelp;
    private MetricType _pendingType;
    private string? _current;

    public ExpositionWriter(int initialCapacity = 64 * 1024) => _buffer = new ArrayBufferWriter<byte>(initialCapacity);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    /// <summary>Starts a metric family; its samples follow.</summary>
    public void Family(string name, MetricType type, string help)
    {
        _pendingName = name;
        _pendingHelp = help;
        _pendingType = type;
        _current = name;
    }

    public void Sample(double value, params ReadOnlySpan<Label> labels)
    {
        WriteSeriesStart(labels);
        WriteDouble(value);
        Raw("\n"u8);
    }

    public void Sample(ulong value, params ReadOnlySpan<Label> labels)
    {
        WriteSeriesStart(labels);
        var span = _buffer.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int n);
        _buffer.Advance(n);
        Raw("\n"u8);
    }

    public void Sample(long value, params ReadOnlySpan<Label> labels)
    {
        WriteSeriesStart(labels);
        var span = _buffer.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int n);
        _buffer.Advance(n);
        Raw("\n"u8);
    }

    public void Sample(bool value, params ReadOnlySpan<Label> labels) => Sample(value ? 1L : 0L, labels);

    private void WriteSeriesStart(ReadOnlySpan<Label> labels)
    {
        var name = _current ?? throw new InvalidOperationException("Family() must come before Sample().");
        if (_pendingName is not null)
        {
            Raw("# HELP "u8); Text(_pendingName); Raw(" "u8); Text(EscapeHelp(_pendingHelp!)); Raw("\n"u8);
            Raw("# TYPE "u8); Text(_pendingName); Raw(_pendingType == MetricType.Counter ? " counter\n"u8 : " gauge\n"u8);
            _pendingName = null;
        }
        Text(name);
        if (labels.Length > 0)
        {
            Raw("{"u8);
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0) Raw(","u8);
                Text(labels[i].Name);
                Raw("=\""u8);
                LabelValue(labels[i].Value);
                Raw("\""u8);
            }
            Raw("}"u8);
        }
        Raw(" "u8);
    }

    private void WriteDouble(double value)
    {
        if (double.IsNaN(value)) { Raw("NaN"u8); return; }
        if (double.IsPositiveInfinity(value)) { Raw("+Inf"u8); return; }
        if (double.IsNegativeInfinity(value)) { Raw("-Inf"u8); return; }
        var span = _buffer.GetSpan(32);
        value.TryFormat(span, out int n, "R", CultureInfo.InvariantCulture);
        _buffer.Advance(n);
    }

    private void Raw(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    private void Text(string s)
    {
        var span = _buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(s.Length));
        _buffer.Advance(Encoding.UTF8.GetBytes(s, span));
    }

    private void LabelValue(string s)
    {
        if (s.AsSpan().IndexOfAny('\\', '"', '\n') < 0) { Text(s); return; }
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            sb.Append(c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ => c.ToString() });
        }
        Text(sb.ToString());
    }

    private static string EscapeHelp(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n");
}
