"""Staff work: accounts and sign-in (`users`, `auth`), the queue (`queue`), one report
(`detail`), the actions on it (`actions`) and the assets reports point at (`assets`)."""
