namespace Dmh.Ingress.Security;

/// <summary>admin_users.role, carried in the admin token's role claim.</summary>
public static class AdminRoles
{
    /// <summary>Everything, including admin accounts.</summary>
    public const string Admin = "admin";
    /// <summary>Campaigns, orders, sync.</summary>
    public const string Operator = "operator";
    /// <summary>Read only.</summary>
    public const string Viewer = "viewer";
    /// <summary>On-site staff: check-in only (look up a registration code, check in, undo, the check-in list).</summary>
    public const string Staff = "staff";
}
