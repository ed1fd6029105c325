using System.Reflection;
using System.Xml.Linq;
using Mono.Cecil;

namespace Dmh.UnitTests.Architecture;

/// <summary>
/// The layering of README's architecture section, checked on the project files and on the compiled
/// assemblies: Contracts ← Platform ← deployables, WechatPay ← {Ingress, Settlement, WechatSim}, and no
/// cycle between namespaces.
/// </summary>
public sealed class ProjectGraphTests
{
    /// <summary>The project references each product project may have. A new project is added here on purpose.</summary>
    private static readonly Dictionary<string, string[]> AllowedProjectReferences = new()
    {
        ["Dmh.Contracts"] = [],
        ["Dmh.WechatPay"] = [],
        ["Dmh.Platform"] = ["Dmh.Contracts"],
        ["Dmh.Ingress"] = ["Dmh.Contracts", "Dmh.Platform", "Dmh.WechatPay"],
        ["Dmh.Settlement"] = ["Dmh.Contracts", "Dmh.Platform", "Dmh.WechatPay"],
        ["Dmh.Syncer"] = ["Dmh.Contracts", "Dmh.Platform"],
        ["Dmh.WechatSim"] = ["Dmh.WechatPay"],
        // The load runner seeds through Ingress's own helper (AttemptAmounts.SeedAsync).
        ["Dmh.Perf"] = ["Dmh.Contracts", "Dmh.Platform", "Dmh.WechatPay", "Dmh.Ingress"],
        // The fault-injection suite drives perf's journeys through perf's runner.
        ["Dmh.Chaos"] = ["Dmh.Perf"],
    };

    /// <summary>What the WeChat Pay library and the simulator must not pull in.</summary>
    private static readonly string[] DataStoreAndMetricsPackages = ["StackExchange.Redis", "MySqlConnector", "Dapper", "prometheus-net"];

    private static readonly Assembly[] ProductAssemblies =
    [
        typeof(Dmh.Contracts.Envelope).Assembly,
        typeof(Dmh.Platform.Money).Assembly,
        typeof(Dmh.WechatPay.IPaymentProvider).Assembly,
        typeof(Dmh.Ingress.EntryPoint).Assembly,
        typeof(Dmh.Settlement.Settling.SettlementStore).Assembly,
        typeof(Dmh.Syncer.SyncerExtensions).Assembly,
        typeof(Dmh.WechatSim.EntryPoint).Assembly,
    ];

    [Fact]
    public void Product_projects_reference_only_the_projects_the_layering_allows()
    {
        var product = Projects().Where(p => !p.IsTest).ToList();
        Assert.Empty(product.Select(p => p.Name).Except(AllowedProjectReferences.Keys));
        var disallowed = product.SelectMany(p => p.ProjectReferences.Except(AllowedProjectReferences[p.Name]).Select(r => $"{p.Name} → {r}"));
        Assert.Empty(disallowed);
    }

    [Fact]
    public void Contracts_references_nothing_and_the_simulator_only_the_WeChat_Pay_library()
    {
        var projects = Projects().ToDictionary(p => p.Name);
        Assert.Empty(projects["Dmh.Contracts"].ProjectReferences);
        Assert.Empty(projects["Dmh.Contracts"].PackageReferences);
        Assert.Equal(["Dmh.WechatPay"], projects["Dmh.WechatSim"].ProjectReferences);
        Assert.DoesNotContain("Dmh.WechatPay", projects["Dmh.Platform"].ProjectReferences);
    }

    [Fact]
    public void The_WeChat_Pay_library_and_the_simulator_use_no_data_store_or_metrics_package()
    {
        var projects = Projects().ToDictionary(p => p.Name);
        Assert.Empty(projects["Dmh.WechatPay"].ProjectReferences);
        foreach (var name in new[] { "Dmh.WechatPay", "Dmh.WechatSim" })
        {
            Assert.DoesNotContain(projects[name].PackageReferences, IsDataStoreOrMetrics);
        }
    }

    [Fact]
    public void The_compiled_assemblies_follow_the_same_graph()
    {
        Assert.DoesNotContain("Dmh.WechatPay", References(typeof(Dmh.Platform.Money).Assembly));
        Assert.DoesNotContain(References(typeof(Dmh.Contracts.Envelope).Assembly), r => r.StartsWith("Dmh.", StringComparison.Ordinal));
        foreach (var assembly in new[] { typeof(Dmh.WechatPay.IPaymentProvider).Assembly, typeof(Dmh.WechatSim.EntryPoint).Assembly })
        {
            var references = References(assembly);
            Assert.DoesNotContain(references, r => r.StartsWith("Dmh.", StringComparison.Ordinal) && r != "Dmh.WechatPay");
            Assert.DoesNotContain(references, IsDataStoreOrMetrics);
        }
    }

    [Fact]
    public void No_type_in_the_platform_assembly_lives_in_a_WechatPay_namespace()
    {
        var types = typeof(Dmh.Platform.Money).Assembly.GetTypes();
        Assert.Empty(types.Where(t => t.Namespace?.Contains(".WechatPay", StringComparison.Ordinal) == true).Select(t => t.FullName));
    }

    [Fact]
    public void Every_project_is_in_the_solution()
    {
        var solution = File.ReadAllText(Path.Combine(RepoRoot, "Dmh.sln")).Replace('\\', '/');
        Assert.DoesNotContain(Projects().Select(p => p.RelativePath), path => !solution.Contains($"\"{path}\"", StringComparison.Ordinal));
    }

    /// <summary>
    /// Namespaces of DMH's assemblies form no cycle: each type's references (signatures, attributes and
    /// method bodies, read from the IL) give edges between namespaces. Constants are inlined by the
    /// compiler and leave no trace, so they are not counted.
    /// </summary>
    [Fact]
    public void Namespaces_depend_on_each_other_without_a_cycle()
    {
        var graph = NamespaceGraph(ProductAssemblies.Select(a => a.Location));
        Assert.Empty(Cycles(graph).Select(c => string.Join(" ⇄ ", c)));
    }

    private sealed record Project(string Name, string RelativePath, bool IsTest, IReadOnlyList<string> ProjectReferences, IReadOnlyList<string> PackageReferences);

    private static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Dmh.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Cannot find the repository root (Dmh.sln).");
        }
    }

    /// <summary>Every *.csproj of the repository, with the packages Directory.Build.props gives all of them.</summary>
    private static List<Project> Projects()
    {
        var root = RepoRoot;
        var common = Items(Path.Combine(root, "Directory.Build.props"), "PackageReference");
        var projects = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))
            .Where(path => !path.Split('/').Any(part => part is "bin" or "obj" or "node_modules" or ".dmh"))
            .Select(path => new Project(
                Path.GetFileNameWithoutExtension(path),
                path,
                path.StartsWith("tests/", StringComparison.Ordinal),
                Items(Path.Combine(root, path), "ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Replace('\\', '/'))).ToList(),
                [.. common, .. Items(Path.Combine(root, path), "PackageReference")]))
            .ToList();
        Assert.Contains(projects, p => p.Name == "Dmh.WechatPay");
        return projects;
    }

    private static List<string> Items(string file, string element) => File.Exists(file)
        ? XDocument.Load(file).Descendants(element).Select(e => (string?)e.Attribute("Include")).OfType<string>().ToList()
        : [];

    private static bool IsDataStoreOrMetrics(string package) =>
        DataStoreAndMetricsPackages.Any(p => package.Equals(p, StringComparison.OrdinalIgnoreCase)
            || package.StartsWith(p + ".", StringComparison.OrdinalIgnoreCase)
            || (p == "prometheus-net" && package.StartsWith("Prometheus", StringComparison.OrdinalIgnoreCase)));

    private static List<string> References(Assembly assembly) =>
        assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

    private static Dictionary<string, HashSet<string>> NamespaceGraph(IEnumerable<string> assemblyPaths)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var path in assemblyPaths)
        {
            using var module = ModuleDefinition.ReadModule(path);
            foreach (var type in module.GetTypes())
            {
                var from = NamespaceOf(type);
                if (!IsDmh(from))
                {
                    continue;
                }

                var edges = graph.TryGetValue(from, out var e) ? e : graph[from] = new(StringComparer.Ordinal);
                foreach (var used in UsedTypes(type))
                {
                    var to = NamespaceOf(used);
                    if (IsDmh(to) && to != from)
                    {
                        edges.Add(to);
                    }
                }
            }
        }

        return graph;
    }

    private static bool IsDmh(string ns) => ns.StartsWith("Dmh.", StringComparison.Ordinal);

    private static string NamespaceOf(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type.Namespace;
    }

    private static IEnumerable<TypeReference> UsedTypes(TypeDefinition type)
    {
        var used = new List<TypeReference>();
        void Add(TypeReference? t)
        {
            switch (t)
            {
                case null:
                case GenericParameter:
                    return;
                case GenericInstanceType generic:
                    Add(generic.ElementType);
                    generic.GenericArguments.ToList().ForEach(Add);
                    return;
                case TypeSpecification spec:
                    Add(spec.ElementType);
                    return;
                default:
                    used.Add(t);
                    return;
            }
        }

        void AddMember(MemberReference member)
        {
            Add(member.DeclaringType);
            switch (member)
            {
                case GenericInstanceMethod generic:
                    generic.GenericArguments.ToList().ForEach(Add);
                    AddMember(generic.ElementMethod);
                    break;
                case MethodReference method:
                    Add(method.ReturnType);
                    method.Parameters.ToList().ForEach(p => Add(p.ParameterType));
                    break;
                case FieldReference field:
                    Add(field.FieldType);
                    break;
            }
        }

        void AddAttributes(Mono.Cecil.ICustomAttributeProvider provider)
        {
            foreach (var attribute in provider.CustomAttributes)
            {
                Add(attribute.AttributeType);
                foreach (var argument in attribute.ConstructorArguments)
                {
                    Add(argument.Value as TypeReference);
                }
            }
        }

        Add(type.BaseType);
        type.Interfaces.ToList().ForEach(i => Add(i.InterfaceType));
        type.GenericParameters.SelectMany(g => g.Constraints).ToList().ForEach(c => Add(c.ConstraintType));
        AddAttributes(type);
        type.Fields.ToList().ForEach(f => { Add(f.FieldType); AddAttributes(f); });
        type.Properties.ToList().ForEach(p => { Add(p.PropertyType); AddAttributes(p); });
        type.Events.ToList().ForEach(e => Add(e.EventType));
        foreach (var method in type.Methods)
        {
            AddAttributes(method);
            Add(method.ReturnType);
            method.Parameters.ToList().ForEach(p => { Add(p.ParameterType); AddAttributes(p); });
            if (!method.HasBody)
            {
                continue;
            }

            method.Body.Variables.ToList().ForEach(v => Add(v.VariableType));
            method.Body.ExceptionHandlers.ToList().ForEach(h => Add(h.CatchType));
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        Add(t);
                        break;
                    case MemberReference m:
                        AddMember(m);
                        break;
                }
            }
        }

        return used;
    }

    /// <summary>The strongly connected components with more than one namespace (Tarjan), each as a sorted list.</summary>
    private static List<List<string>> Cycles(Dictionary<string, HashSet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var cycles = new List<List<string>>();

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph.GetValueOrDefault(v) ?? [])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);

                if (component.Count > 1)
                {
                    component.Sort(StringComparer.Ordinal);
                    cycles.Add(component);
                }
            }
        }

        foreach (var v in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(v))
            {
                Visit(v);
            }
        }

        return cycles;
    }
}
