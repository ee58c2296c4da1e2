using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace NatsJsExporter.Metrics;

public readonly record struct Label(string Name, string Value);

public enum MetricType { Gauge, Counter }

/// <summary>
/// Labels encoded once (`name="value",…`, escaped, UTF-8) and written as one copy into every series
/// that carries them: a stream's or consumer's identity labels appear in dozens of families.
/// </summary>
public sealed class LabelSet
{
    internal readonly byte[] Encoded;

    private LabelSet(byte[] encoded, bool _) => Encoded = encoded;

    public LabelSet(params ReadOnlySpan<Label> labels) : this(Encode([], labels), true) { }

    /// <summary>This set followed by more labels.</summary>
    public LabelSet With(params ReadOnlySpan<Label> more) => new(Encode(Encoded, more), true);

    private static byte[] Encode(ReadOnlySpan<byte> prefix, ReadOnlySpan<Label> labels)
    {
        int max = prefix.Length;
        foreach (var l in labels) max += 4 + Encoding.UTF8.GetMaxByteCount(l.Name.Length) + 2 * Encoding.UTF8.GetMaxByteCount(l.Value.Length);
        var buf = new byte[max];
        prefix.CopyTo(buf);
        int pos = prefix.Length;
        foreach (var l in labels)
        {
            if (pos > 0) buf[pos++] = (byte)',';
            pos += Encoding.UTF8.GetBytes(l.Name, buf.AsSpan(pos));
            buf[pos++] = (byte)'=';
            buf[pos++] = (byte)'"';
            pos += ExpositionWriter.EscapeLabelValue(l.Value, buf.AsSpan(pos));
            buf[pos++] = (byte)'"';
        }
        return buf.AsSpan(0, pos).ToArray();
    }
}

/// <summary>
/// Writes the Prometheus text exposition format (0.0.4) as UTF-8 straight into a buffer.
/// A family's HELP/TYPE header is written only when its first sample is, so families
/// without samples vanish instead of leaving empty headers.
/// </summary>
public sealed class ExpositionWriter
{
    private byte[] _buf;
    private int _pos;
    private string? _pendingName;
    private string? _pendingHelp;
    private MetricType _pendingType;
    private byte[]? _current;
    private readonly Action<ReadOnlySpan<byte>>? _sink;
    private readonly int _flushAt;

    public ExpositionWriter(int initialCapacity = 64 * 1024)
    {
        _buf = GC.AllocateUninitializedArray<byte>(Math.Max(initialCapacity, 256));
    }

    /// <summary>
    /// A writer that hands its text to <paramref name="sink"/> in pieces of about
    /// <paramref name="chunkSize"/> bytes instead of keeping it: each piece is whole lines, and a
    /// family's HELP and TYPE lines are never split from each other (the writer flushes only at the
    /// start of a series, before the header it may write). Call <see cref="Complete"/> at the end.
    /// </summary>
    public ExpositionWriter(Action<ReadOnlySpan<byte>> sink, int chunkSize = 256 * 1024)
    {
        _sink = sink;
        _flushAt = Math.Max(chunkSize, 256);
        _buf = GC.AllocateUninitializedArray<byte>(_flushAt + 4096);
    }

    /// <summary>Hands the rest of the text to the sink (sink mode only).</summary>
    public void Complete()
    {
        var sink = _sink ?? throw new InvalidOperationException("Complete() is for a writer with a sink.");
        if (_pos > 0) sink(_buf.AsSpan(0, _pos));
        _pos = 0;
    }

    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(_pos);
        _buf.AsSpan(0, _pos).CopyTo(result);
        return result;
    }

    /// <summary>Starts a metric family; its samples follow.</summary>
    public void Family(string name, MetricType type, string help)
    {
        _pendingName = name;
        _pendingHelp = help;
        _pendingType = type;
        _current = Encoding.UTF8.GetBytes(name);
    }

    public void Sample(double value, params ReadOnlySpan<Label> labels)
    {
        WriteSeriesStart([], labels);
        WriteDouble(value);
    }

    public void Sample(ulong value, params ReadOnlySpan<Label> labels)
    {
        WriteSeriesStart([], labels);
        WriteInteger(value);
    }

    public void Sample(long value, params ReadOnlySpan<Label> labels)
    {
        WriteSeriesStart([], labels);
        WriteInteger(value);
    }

    public void Sample(bool value, params ReadOnlySpan<Label> labels) => Sample(value ? 1L : 0L, labels);

    /// <summary>A sample whose labels are <paramref name="set"/> followed by <paramref name="more"/>.</summary>
    public void Sample(LabelSet set, double value, params ReadOnlySpan<Label> more)
    {
        WriteSeriesStart(set.Encoded, more);
        WriteDouble(value);
    }

    public void Sample(LabelSet set, long value, params ReadOnlySpan<Label> more)
    {
        WriteSeriesStart(set.Encoded, more);
        WriteInteger(value);
    }

    public void Sample(LabelSet set, bool value, params ReadOnlySpan<Label> more) => Sample(set, value ? 1L : 0L, more);

    /// <summary>A sample whose labels are already encoded (<c>name="value",…</c>, as a <see cref="LabelSet"/> holds them).</summary>
    internal void Sample(ReadOnlySpan<byte> encodedLabels, double value)
    {
        WriteSeriesStart(encodedLabels, []);
        WriteDouble(value);
    }

    internal void Sample(ReadOnlySpan<byte> encodedLabels, long value)
    {
        WriteSeriesStart(encodedLabels, []);
        WriteInteger(value);
    }

    internal void Sample(ReadOnlySpan<byte> encodedLabels, bool value) => Sample(encodedLabels, value ? 1L : 0L);

    private void WriteSeriesStart(ReadOnlySpan<byte> encoded, ReadOnlySpan<Label> labels)
    {
        var name = _current ?? throw new InvalidOperationException("Family() must come before Sample().");
        if (_sink is not null && _pos >= _flushAt)
        {
            _sink(_buf.AsSpan(0, _pos));
            _pos = 0;
        }
        if (_pendingName is not null) WriteHeader();
        if (labels.Length == 0 && encoded.Length > 0)
        {
            // The bulk of a large render (every stream/consumer series, identity+peer included):
            // name{set}space under one bounds check.
            Ensure(name.Length + encoded.Length + 3);
            var span = _buf.AsSpan(_pos);
            name.CopyTo(span);
            span[name.Length] = (byte)'{';
            encoded.CopyTo(span[(name.Length + 1)..]);
            span[name.Length + 1 + encoded.Length] = (byte)'}';
            span[name.Length + 2 + encoded.Length] = (byte)' ';
            _pos += name.Length + encoded.Length + 3;
            return;
        }
        Raw(name);
        bool any = encoded.Length > 0;
        if (any || labels.Length > 0)
        {
            Byte((byte)'{');
            if (any) Raw(encoded);
            for (int i = 0; i < labels.Length; i++)
            {
                if (any || i > 0) Byte((byte)',');
                Text(labels[i].Name);
                Raw("=\""u8);
                LabelValue(labels[i].Value);
                Byte((byte)'"');
            }
            Byte((byte)'}');
        }
        Byte((byte)' ');
    }

    private void WriteHeader()
    {
        Raw("# HELP "u8); Text(_pendingName!); Byte((byte)' '); Text(EscapeHelp(_pendingHelp!)); Byte((byte)'\n');
        Raw("# TYPE "u8); Text(_pendingName!); Raw(_pendingType == MetricType.Counter ? " counter\n"u8 : " gauge\n"u8);
        _pendingName = null;
    }

    private const double IntegralLimit = 1e15; // below this "R" prints integral doubles as plain integers

    private void WriteDouble(double value)
    {
        // Most values are integral (counts, sequences, bytes): format them as integers, byte-identical
        // to "R" below 1e15 and much cheaper. Negative zero keeps its "-0".
        if (value < IntegralLimit && value > -IntegralLimit && value == Math.Floor(value) && (value != 0 || !double.IsNegative(value)))
        {
            WriteInteger((long)value);
            return;
        }
        if (double.IsNaN(value)) { Raw("NaN\n"u8); return; }
        if (double.IsPositiveInfinity(value)) { Raw("+Inf\n"u8); return; }
        if (double.IsNegativeInfinity(value)) { Raw("-Inf\n"u8); return; }
        Ensure(33);
        value.TryFormat(_buf.AsSpan(_pos), out int n, "R", CultureInfo.InvariantCulture);
        _pos += n;
        _buf[_pos++] = (byte)'\n';
    }

    private void WriteInteger(long value)
    {
        Ensure(21);
        Utf8Formatter.TryFormat(value, _buf.AsSpan(_pos), out int n);
        _pos += n;
        _buf[_pos++] = (byte)'\n';
    }

    private void WriteInteger(ulong value)
    {
        Ensure(21);
        Utf8Formatter.TryFormat(value, _buf.AsSpan(_pos), out int n);
        _pos += n;
        _buf[_pos++] = (byte)'\n';
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int n)
    {
        if (_buf.Length - _pos < n) Grow(n);
    }

    private void Grow(int n)
    {
        long size = Math.Max((long)_buf.Length * 2, (long)_pos + n);
        var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(size, Array.MaxLength));
        _buf.AsSpan(0, _pos).CopyTo(bigger);
        _buf = bigger;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Byte(byte b)
    {
        Ensure(1);
        _buf[_pos++] = b;
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buf.AsSpan(_pos));
        _pos += bytes.Length;
    }

    private void Text(string s)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(s.Length));
        _pos += Encoding.UTF8.GetBytes(s, _buf.AsSpan(_pos));
    }

    private void LabelValue(string s)
    {
        Ensure(2 * Encoding.UTF8.GetMaxByteCount(s.Length));
        _pos += EscapeLabelValue(s, _buf.AsSpan(_pos));
    }

    /// <summary>Writes a label value escaped (\\, \", \n) as UTF-8; the destination holds at least twice its UTF-8 size.</summary>
    internal static int EscapeLabelValue(string s, Span<byte> dest)
    {
        if (s.AsSpan().IndexOfAny('\\', '"', '\n') < 0) return Encoding.UTF8.GetBytes(s, dest);
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            sb.Append(c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ => c.ToString() });
        }
        return Encoding.UTF8.GetBytes(sb.ToString(), dest);
    }

    private static string EscapeHelp(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n");
}
