using System.Globalization;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string this[string label] => Labels.TryGetValue(label, out var v) ? v : "";
}

/// <summary>A parsed Prometheus text exposition, for asserting what a user would query.</summary>
public sealed class Exposition
{
    public IReadOnlyList<Sample> Samples { get; }

    private Exposition(IReadOnlyList<Sample> samples) => Samples = samples;

    public IEnumerable<Sample> Find(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s[l.Label] == l.Value));

    public double? Value(string name, params (string Label, string Value)[] labels) =>
        Find(name, labels).Select(s => (double?)s.Value).FirstOrDefault();

    public string Dump() => string.Join("\n", Samples.Where(s => s.Name.StartsWith("natsjs_", StringComparison.Ordinal)
        && (s.Name.Contains("peer") || s.Name.Contains("leader") || s.Name.Contains("_up") || s.Name.Contains("stream_messages")))
        .Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(kv => $"{kv.Key}=\"{kv.Value}\""))}}} {s.Value}"));

    public static Exposition Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            int brace = line.IndexOf('{');
            int space = line.LastIndexOf(' ');
            string name;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0 && brace < space)
            {
                name = line[..brace];
                int end = line.LastIndexOf('}');
                var body = line[(brace + 1)..end];
                int i = 0;
                while (i < body.Length)
                {
                    int eq = body.IndexOf('=', i);
                    var key = body[i..eq];
                    int j = eq + 2;
                    var sb = new System.Text.StringBuilder();
                    while (body[j] != '"')
                    {
                        if (body[j] == '\\') { j++; sb.Append(body[j] == 'n' ? '\n' : body[j]); }
                        else sb.Append(body[j]);
                        j++;
                    }
                    labels[key] = sb.ToString();
                    i = j + 1;
                    if (i < body.Length && body[i] == ',') i++;
                }
            }
            else
            {
                name = line[..space];
            }
            var valueText = line[(space + 1)..];
            double value = valueText switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(valueText, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(name, labels, value));
        }
        return new Exposition(samples);
    }
}
