"""Run every benchmark: python -m bench [POSTGRES_URL]"""

import sys

from bench import bench_audit, bench_dashboard, bench_documents, bench_login, bench_meeting, bench_photo, \
    bench_register, bench_workflow

url = sys.argv[1] if len(sys.argv) > 1 else None
bench_login.main()
bench_audit.main(None)
bench_register.main(None)
bench_meeting.main()
bench_photo.main(None)
bench_documents.main(None)
bench_workflow.main(None)
bench_dashboard.main(None)
if url:
    bench_photo.main(url)
    bench_audit.main(url)
    bench_register.main(url)
    bench_documents.main(url)
    bench_workflow.main(url)
    bench_dashboard.main(url)
