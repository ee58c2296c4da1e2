using Mono.Cecil;

namespace NatsJsExporter.Tests.Architecture;

/// <summary>
/// Folders depend one way: Model and Options at the bottom, then Sources, Snapshot, Metrics and
/// Views, then Hosting and Commands, Program on top. Read from the compiled IL (signatures, fields,
/// attributes and every method body, lambdas included), so a fully qualified or relative name
/// cannot slip past as it could past a search of `using` lines.
/// </summary>
public class LayeringTests
{
    // Lower rank = lower layer. A layer may use layers of lower rank only (never one of equal rank).
    private static readonly Dictionary<string, int> Rank = new()
    {
        ["Model"] = 0, ["Options"] = 0,
        ["Sources"] = 1,
        ["Snapshot"] = 2,
        ["Metrics"] = 3, ["Views"] = 3,
        ["Hosting"] = 4,
        ["Commands"] = 5,
        ["Program"] = 6,
    };

    [Fact]
    public void No_folder_references_a_folder_above_it()
    {
        var path = typeof(NatsJsExporter.Options.ExporterOptions).Assembly.Location;
        using var module = ModuleDefinition.ReadModule(path);
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        var layersSeen = new HashSet<string>();
        foreach (var type in module.GetTypes())
        {
            var from = LayerOf(type);
            if (from is null) continue;
            layersSeen.Add(from);
            foreach (var used in ReferencedTypes(type))
            {
                var to = LayerOf(used);
                if (to is null || to == from) continue;
                if (Rank[to] >= Rank[from])
                    violations.Add($"{from} -> {to}: {Outer(type).FullName} uses {Outer(used).FullName}");
            }
        }
        Assert.True(violations.Count == 0, "Folders reference folders at or above their own layer:\n" + string.Join("\n", violations));
        // The test must see the layers it guards (an empty scan would pass vacuously).
        Assert.Superset(new HashSet<string> { "Model", "Options", "Sources", "Snapshot", "Metrics", "Views", "Hosting", "Commands", "Program" }, layersSeen);
    }

    [Fact]
    public void The_check_catches_a_reference_upwards()
    {
        // The rule itself, on a known upward edge: Views must not use Hosting.
        Assert.True(Rank["Hosting"] >= Rank["Views"]);
        var path = typeof(LayeringTests).Assembly.Location;
        using var module = ModuleDefinition.ReadModule(path);
        var probe = module.GetType("NatsJsExporter.Tests.Architecture.UpwardProbe");
        var used = ReferencedTypes(probe).Select(t => Outer(t).FullName).ToList();
        Assert.Contains("NatsJsExporter.Hosting.SnapshotStore", used);
    }

    private static TypeReference Outer(TypeReference t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t;
    }

    /// <summary>The folder (layer) of a type of the exporter's assembly; null for types of other assemblies.</summary>
    private static string? LayerOf(TypeReference t)
    {
        t = Outer(t.GetElementType());
        var scope = t.Scope switch
        {
            ModuleDefinition m => m.Assembly.Name.Name,
            AssemblyNameReference a => a.Name,
            _ => t.Module?.Assembly.Name.Name,
        };
        if (scope != "natsjs-exporter") return null;
        if (t.Namespace == "" && t.Name is "Program" or "<Program>$") return "Program";
        const string prefix = "NatsJsExporter.";
        if (!t.Namespace.StartsWith(prefix, StringComparison.Ordinal)) return null; // generated helpers (e.g. <PrivateImplementationDetails>)
        var layer = t.Namespace[prefix.Length..].Split('.')[0];
        Assert.True(Rank.ContainsKey(layer), $"namespace {t.Namespace} is not a known layer: add it to LayeringTests.Rank");
        return layer;
    }

    private static IEnumerable<TypeReference> ReferencedTypes(TypeDefinition type)
    {
        var found = new List<TypeReference>();
        void Add(TypeReference? t)
        {
            if (t is null) return;
            found.Add(t);
            if (t is GenericInstanceType g) foreach (var a in g.GenericArguments) Add(a);
            if (t is TypeSpecification spec) Add(spec.ElementType);
        }
        void AddAttributes(ICustomAttributeProvider p)
        {
            if (!p.HasCustomAttributes) return;
            foreach (var a in p.CustomAttributes)
            {
                Add(a.AttributeType);
                foreach (var arg in a.ConstructorArguments) if (arg.Value is TypeReference tr) Add(tr);
            }
        }
        void AddMethod(MethodReference m)
        {
            Add(m.DeclaringType);
            Add(m.ReturnType);
            foreach (var p in m.Parameters) Add(p.ParameterType);
            if (m is GenericInstanceMethod gm) foreach (var a in gm.GenericArguments) Add(a);
        }

        Add(type.BaseType);
        AddAttributes(type);
        foreach (var i in type.Interfaces) Add(i.InterfaceType);
        foreach (var f in type.Fields) { Add(f.FieldType); AddAttributes(f); }
        foreach (var p in type.Properties) { Add(p.PropertyType); AddAttributes(p); }
        foreach (var m in type.Methods)
        {
            AddMethod(m);
            AddAttributes(m);
            if (!m.HasBody) continue;
            foreach (var v in m.Body.Variables) Add(v.VariableType);
            foreach (var ins in m.Body.Instructions)
            {
                switch (ins.Operand)
                {
                    case TypeReference t: Add(t); break;
                    case MethodReference mr: AddMethod(mr); break;
                    case FieldReference fr: Add(fr.DeclaringType); Add(fr.FieldType); break;
                }
            }
        }
        return found;
    }
}

/// <summary>Used only by <see cref="LayeringTests.The_check_catches_a_reference_upwards"/>: a body that touches Hosting.</summary>
internal static class UpwardProbe
{
    public static object Make() => new NatsJsExporter.Hosting.SnapshotStore();
}
