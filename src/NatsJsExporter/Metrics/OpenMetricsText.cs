namespace NatsJsExporter.Metrics;

/// <summary>
/// Turns the rendered Prometheus text exposition (0.0.4) into OpenMetrics 1.0 text, byte for byte
/// except the metadata: a counter family is named without its `_total` suffix in HELP and TYPE
/// (its samples keep it), and HELP text escapes double quotes. Samples are copied unchanged: label
/// escaping and number formats are the same in both. The `# EOF` line is not written here; it
/// ends the whole response.
/// </summary>
public static class OpenMetricsText
{
    public const string ContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    public static readonly byte[] Eof = "# EOF\n"u8.ToArray();

    public static byte[] FromText(ReadOnlySpan<byte> text)
    {
        using var ms = new MemoryStream(text.Length + 1024);
        Write(text, ms);
        return ms.ToArray();
    }

    /// <summary>The OpenMetrics form of a compressed text exposition, compressed (inflated, converted and deflated piece by piece).</summary>
    public static CompressedExposition FromCompressedText(CompressedExposition text)
    {
        using var output = new CompressedExposition.Writer();
        using (var input = text.OpenText())
        {
            var pending = new byte[256 * 1024];
            int filled = 0;
            while (true)
            {
                if (filled == pending.Length) Array.Resize(ref pending, pending.Length * 2); // one line longer than the buffer
                int n = input.Read(pending, filled, pending.Length - filled);
                if (n == 0) break;
                filled += n;
                // Convert whole lines only, and never a HELP line without the TYPE line after it.
                int end = pending.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
                if (end > 0)
                {
                    int lastLine = pending.AsSpan(0, end - 1).LastIndexOf((byte)'\n') + 1;
                    if (pending.AsSpan(lastLine, end - lastLine).StartsWith("# HELP "u8)) end = lastLine;
                }
                if (end == 0) continue;
                Write(pending.AsSpan(0, end), output);
                pending.AsSpan(end, filled - end).CopyTo(pending);
                filled -= end;
            }
            Write(pending.AsSpan(0, filled), output);
        }
        return output.Complete();
    }

    /// <summary>
    /// Converts <paramref name="text"/>: whole lines, with each HELP line followed by its TYPE line
    /// (an exposition writer's sink pieces, or the whole text).
    /// </summary>
    public static void Write(ReadOnlySpan<byte> text, Stream output)
    {
        int pos = 0;
        while (pos < text.Length)
        {
            // Next HELP line; everything before it is samples (no sample line starts with '#').
            int help = IndexOfLineStarting(text, pos, "# HELP "u8);
            if (help < 0)
            {
                output.Write(text[pos..]);
                return;
            }
            output.Write(text[pos..help]);
            int helpEnd = LineEnd(text, help);
            int typeStart = helpEnd;
            int typeEnd = typeStart < text.Length ? LineEnd(text, typeStart) : typeStart;
            var helpLine = text[help..helpEnd];                         // "# HELP name text\n"
            var typeLine = text[typeStart..typeEnd];                    // "# TYPE name type\n"
            var nameAndHelp = helpLine["# HELP "u8.Length..];
            int sp = nameAndHelp.IndexOf((byte)' ');
            var name = sp < 0 ? nameAndHelp[..^1] : nameAndHelp[..sp];
            bool counter = typeLine.StartsWith("# TYPE "u8) && typeLine.EndsWith(" counter\n"u8) && name.EndsWith("_total"u8);
            var family = counter ? name[..^"_total"u8.Length] : name;

            output.Write("# HELP "u8);
            output.Write(family);
            if (sp >= 0) WriteEscapedQuotes(nameAndHelp[sp..], output);
            else output.Write("\n"u8);
            if (typeLine.StartsWith("# TYPE "u8))
            {
                output.Write("# TYPE "u8);
                output.Write(family);
                output.Write(typeLine[("# TYPE "u8.Length + name.Length)..]);
                pos = typeEnd;
            }
            else
            {
                pos = helpEnd;
            }
        }
    }

    private static void WriteEscapedQuotes(ReadOnlySpan<byte> s, Stream output)
    {
        int q;
        while ((q = s.IndexOf((byte)'"')) >= 0)
        {
            output.Write(s[..q]);
            output.Write("\\\""u8);
            s = s[(q + 1)..];
        }
        output.Write(s);
    }

    private static int LineEnd(ReadOnlySpan<byte> text, int start)
    {
        int nl = text[start..].IndexOf((byte)'\n');
        return nl < 0 ? text.Length : start + nl + 1;
    }

    private static int IndexOfLineStarting(ReadOnlySpan<byte> text, int from, ReadOnlySpan<byte> prefix)
    {
        if (from == 0 && text.StartsWith(prefix)) return 0;
        Span<byte> needle = stackalloc byte[prefix.Length + 1];
        needle[0] = (byte)'\n';
        prefix.CopyTo(needle[1..]);
        int i = text[Math.Max(0, from - 1)..].IndexOf(needle);
        return i < 0 ? -1 : Math.Max(0, from - 1) + i + 1;
    }
}
