namespace Dmh.Syncer;

/// <summary>Names this assembly for WebApplicationFactory in the tests (every service's Program is global).</summary>
public sealed class EntryPoint;
