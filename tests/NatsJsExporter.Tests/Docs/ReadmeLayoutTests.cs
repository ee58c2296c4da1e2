using NatsJsExporter.Tests.Support;

namespace NatsJsExporter.Tests.Docs;

/// <summary>The README's Layout section has an entry for every top-level folder, project and exporter folder, and names every script, each once.</summary>
public class ReadmeLayoutTests
{
    private static readonly string[] NotInLayout = [".git", ".cache", ".vs", ".idea", "TestResults", "bin", "obj"];

    private static string LayoutBlock()
    {
        var readme = File.ReadAllText(Path.Combine(Repo.Root, "README.md"));
        int section = readme.IndexOf("\n## Layout\n", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## Layout' section");
        int open = readme.IndexOf("```", section, StringComparison.Ordinal);
        int close = readme.IndexOf("```", open + 3, StringComparison.Ordinal);
        return readme[(open + 3)..close];
    }

    private static IEnumerable<string> Dirs(string path) =>
        Directory.GetDirectories(Path.Combine(Repo.Root, path)).Select(d => Path.GetFileName(d)!)
            .Where(d => !NotInLayout.Contains(d)).Order(StringComparer.Ordinal);

    public static TheoryData<string> Expected()
    {
        var names = new List<string>();
        names.AddRange(Dirs(".").Where(d => d is not ("src" or "tests" or "bench")).Select(d => d + "/"));
        // Every project, by its folder.
        names.AddRange(Directory.GetFiles(Repo.Root, "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Repo.Root, Path.GetDirectoryName(p)!).Replace('\\', '/'))
            .Where(p => !p.StartsWith('.') && p.Split('/').Length == 2)
            .Select(p => p + "/"));
        // Every folder of the exporter itself, and Program.cs.
        names.AddRange(Dirs("src/NatsJsExporter").Where(d => !d.StartsWith('.')).Select(d => "  " + d + "/"));
        names.Add("Program.cs");
        names.AddRange(Directory.GetFiles(Path.Combine(Repo.Root, "scripts"), "*.sh").Select(f => Path.GetFileName(f)!));
        return new TheoryData<string>(names.Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public void The_layout_names_it_once(string name)
    {
        var block = LayoutBlock();
        int count;
        if (name.EndsWith('/'))
        {
            // A folder or project is an entry: a line of its own that starts with it.
            count = block.Split('\n').Count(l => l.StartsWith(name, StringComparison.Ordinal));
        }
        else
        {
            // A script or file: a whole name in the text (not the tail of a path such as scripts/demo.sh).
            count = 0;
            for (int i = block.IndexOf(name, StringComparison.Ordinal); i >= 0; i = block.IndexOf(name, i + name.Length, StringComparison.Ordinal))
                if (i == 0 || block[i - 1] is ' ' or '\n' or ',' or '(') count++;
        }
        Assert.True(count == 1, $"README.md's Layout names '{name.Trim()}' {count} times (expected once):\n{block}");
    }
}
