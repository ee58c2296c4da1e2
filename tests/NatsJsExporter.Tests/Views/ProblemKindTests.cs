using System.Text.Json;
using NatsJsExporter.Tests.Support;
using NatsJsExporter.Views;

namespace NatsJsExporter.Tests.Views;

/// <summary>The fixed set of problem kinds: one identifier in JSON, HTML and the README table, one severity each.</summary>
public class ProblemKindTests
{
    public static TheoryData<ProblemKind> Kinds() => new(Enum.GetValues<ProblemKind>());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_kind_has_one_identifier_and_the_readme_table_lists_it_with_its_severity(ProblemKind kind)
    {
        var problem = new Problem { Kind = kind, Message = "m" };
        var json = JsonSerializer.SerializeToElement(problem, ViewsJsonContext.Default.Problem);
        Assert.Equal(ProblemKinds.Id(kind), json.GetProperty("kind").GetString());
        Assert.Equal(problem.Severity == Severity.Critical ? "critical" : "warning", json.GetProperty("severity").GetString());

        var readme = File.ReadAllLines(Repo.Path_("README.md"));
        var row = Assert.Single(readme, l => l.StartsWith($"| `{ProblemKinds.Id(kind)}` |", StringComparison.Ordinal));
        Assert.StartsWith($"| `{ProblemKinds.Id(kind)}` | {json.GetProperty("severity").GetString()} |", row);
    }
}
