"""program_targets.csv of the spec, embedded verbatim so the reference needs no other file."""

PROGRAM_TARGETS_CSV = """\
target_id,area,kpi_code,indicator_vi,indicator_en,measure,comparator,target_2025,target_2030,source_kind,seed_section
T01,0,par_index_national_rank,Xếp hạng Chỉ số Cải cách hành chính (PAR INDEX) của tỉnh,Province rank in the national PAR INDEX,rank,top_n,15,improve_vs_2025,national_indices,I
T02,0,papi_national_rank,Xếp hạng Chỉ số PAPI của tỉnh,Province rank in the national PAPI,rank,top_n,15,improve_vs_2025,national_indices,I
T03,0,pci_national_rank,Xếp hạng Chỉ số PCI của tỉnh,Province rank in the national PCI,rank,top_n,15,improve_vs_2025,national_indices,I
T04,0,ict_index_national_rank,Xếp hạng Chỉ số ICT Index của tỉnh,Province rank in the national ICT Index,rank,top_n,10,improve_vs_2025,national_indices,I
T05,1,legal_docs_quality_on_time_rate,Văn bản QPPL được ban hành/sửa đổi/bãi bỏ đảm bảo chất lượng và đúng tiến độ,Legal normative documents issued on time with quality,percent,>=,98,100,self_report,II.1.a
T06,1,legal_docs_implemented_rate,Văn bản pháp luật được triển khai kịp thời,Legal documents implemented in time,percent,>=,98,100,self_report,II.1.a
T07,2,procedures_simplified_rate,TTHC được đơn giản hóa thành phần hồ sơ/quy trình/thời gian,Administrative procedures simplified,percent,>=,20,30,procedure_catalog,II.2.a
T08,2,online_payment_coverage,TTHC có nghĩa vụ tài chính được triển khai thanh toán trực tuyến,Procedures with a financial obligation that offer online payment,percent,>=,85,100,dossiers+procedure_catalog,II.2.a
T09,2,online_payment_txn_rate,Tỷ lệ giao dịch thanh toán trực tuyến,Share of payment transactions made online,percent,>=,35,60,payments,II.2.a
T10,2,satisfaction_procedures,Mức độ hài lòng về giải quyết TTHC,Satisfaction with procedure resolution,percent,>,90,95,surveys,II.2.a
T11,2,satisfaction_land_construction_investment,Mức độ hài lòng về giải quyết TTHC lĩnh vực đất đai/xây dựng/đầu tư,Satisfaction with procedures in land/construction/investment,percent,>,85,90,surveys,II.2.a
T12,2,internal_procedures_published_rate,TTHC nội bộ được công bố/công khai/cập nhật,Internal procedures published and kept current,percent,>=,100,100,self_report,II.2.a
T13,3,public_units_reduction_rate,Giảm số lượng đơn vị sự nghiệp công lập so với 2021,Reduction in number of public service units vs 2021,percent,>=,10,,self_report,II.3.a
T14,3,budget_staff_reduction_rate,Giảm biên chế sự nghiệp hưởng lương NSNN (2025 so với 2021; 2030 so với 2025),Reduction in budget-paid public service staff,percent,>=,10,10,self_report,II.3.a
T15,3,satisfaction_admin_agencies,Mức độ hài lòng đối với sự phục vụ của cơ quan hành chính nhà nước,Satisfaction with the service of administrative agencies,percent,>,90,95,surveys,II.3.a
T16,3,satisfaction_health,Mức độ hài lòng về dịch vụ y tế công,Satisfaction with public health services,percent,>,85,90,surveys,II.3.a
T17,3,satisfaction_education,Mức độ hài lòng về dịch vụ giáo dục công,Satisfaction with public education services,percent,>,85,90,surveys,II.3.a
T18,4,staff_structure_compliant_rate,Cơ quan có cơ cấu CBCCVC đáp ứng vị trí việc làm/khung năng lực,Agencies whose staff structure meets job-position standards,percent,>=,100,,self_report,II.4.a
T19,5,self_financing_units_rate,Đơn vị sự nghiệp công lập tự chủ chi thường xuyên,Public service units self-financing recurrent spending,percent,>=,20,,self_report,II.5.a
T20,5,economic_units_converted_rate,Đơn vị sự nghiệp kinh tế đủ điều kiện đã chuyển đổi/tự chủ chi thường xuyên và đầu tư,Eligible economic service units converted or fully self-financing,percent,>=,100,,self_report,II.5.a
T21,5,direct_budget_spending_reduction_rate,Giảm chi trực tiếp NSNN cho đơn vị sự nghiệp so với 2021-2025,Reduction in direct budget spending on public service units vs 2021-2025,percent,>=,,15,self_report,II.5.a
T22,6,agencies_it_infrastructure_rate,Cơ quan được đầu tư hạ tầng phục vụ ứng dụng CNTT,Agencies with IT infrastructure,percent,>=,100,,self_report,II.6.a
T23,6,online_eligible_procedures_provided_rate,TTHC đủ điều kiện được cung cấp trực tuyến mức độ 3/4 và tích hợp Cổng DVC quốc gia,Eligible procedures offered online at level 3/4 and on the national portal,percent,>=,100,100,procedure_catalog,II.6.a
T24,6,online_dossier_rate,Tỷ lệ hồ sơ được giải quyết trực tuyến trên tổng số hồ sơ tiếp nhận,Share of received dossiers handled online,percent,>=,60,85,dossiers,II.6.a
T25,6,eid_authenticated_users_rate,Tổ chức/cá nhân dùng Cổng DVC được định danh và xác thực điện tử,Portal users with electronic identification,percent,>=,100,,self_report,II.6.a
T26,6,national_db_connected_rate,Cơ sở dữ liệu quốc gia được kết nối/ứng dụng trên địa bàn,National databases connected,percent,>=,100,,self_report,II.6.a
T27,6,open_db_departments_connected_rate,CSDL mở của tỉnh kết nối liên thông CSDL các sở/ngành,Department databases linked to the provincial open database,percent,>,80,100,self_report,II.6.a
T28,6,periodic_reports_on_system_rate,Chế độ báo cáo định kỳ thực hiện trên Hệ thống thông tin báo cáo của tỉnh,Periodic reports filed on the provincial reporting system,percent,>=,100,,self_report,II.6.a
T29,6,online_meeting_ready_units_rate,Đơn vị cấp huyện/xã đủ hạ tầng họp trực tuyến,District and commune units able to hold online meetings,percent,>=,100,,self_report,II.6.a
T30,6,work_records_online_rate_province,Hồ sơ công việc cấp tỉnh xử lý trên môi trường mạng,Work records processed online at province level,percent,>=,90,100,self_report,II.6.a
T31,6,work_records_online_rate_district,Hồ sơ công việc cấp huyện xử lý trên môi trường mạng,Work records processed online at district level,percent,>=,80,95,self_report,II.6.a
T32,6,work_records_online_rate_commune,Hồ sơ công việc cấp xã xử lý trên môi trường mạng,Work records processed online at commune level,percent,>=,60,85,self_report,II.6.a
T33,6,level4_services_multichannel_rate,Dịch vụ công trực tuyến mức độ 4 được cung cấp trên nhiều phương tiện kể cả di động,Level-4 online services available on several channels incl. mobile,percent,>=,,100,self_report,II.6.a
"""
